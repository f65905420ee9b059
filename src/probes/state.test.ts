import { describe, expect, it } from 'vitest';
import { applyResult, initialState, type ProbeState } from './state.js';
import type { CheckResult } from './types.js';

const ok: CheckResult = { ok: true, durationMs: 1, observations: {} };
const fail: CheckResult = { ok: false, durationMs: 1, reason: 'refused', observations: {} };

function run(results: CheckResult[], rise = 2, fall = 3, inGrace = false): { states: string[]; changes: number } {
  let state: ProbeState = initialState(0);
  const states: string[] = [];
  let changes = 0;
  results.forEach((result, i) => {
    const next = applyResult(state, result, { rise, fall }, i + 1, inGrace);
    state = next.state;
    if (next.changed) changes++;
    states.push(state.status);
  });
  return { states, changes };
}

describe('rise/fall state machine', () => {
  it('starts unknown and needs `rise` successes to be up', () => {
    expect(run([ok, ok]).states).toEqual(['unknown', 'up']);
  });

  it('needs `fall` consecutive failures to be down', () => {
    expect(run([ok, ok, fail, fail, fail]).states).toEqual(['unknown', 'up', 'up', 'up', 'down']);
  });

  it('a success in between resets the failure count (flapping does not mark down)', () => {
    expect(run([ok, ok, fail, fail, ok, fail, fail]).states.at(-1)).toBe('up');
  });

  it('comes back after `rise` successes', () => {
    expect(run([fail, fail, fail, ok, ok]).states).toEqual(['unknown', 'unknown', 'down', 'down', 'up']);
  });

  it('does not count failures during the grace period', () => {
    expect(run([fail, fail, fail, fail], 2, 3, true).states).toEqual(['unknown', 'unknown', 'unknown', 'unknown']);
  });

  it('records when the status changed and the last result', () => {
    const first = applyResult(initialState(0), ok, { rise: 1, fall: 1 }, 5);
    expect(first).toMatchObject({ changed: true, state: { status: 'up', since: 5, lastCheckAt: 5 } });
    const second = applyResult(first.state, fail, { rise: 1, fall: 1 }, 9);
    expect(second.state).toMatchObject({ status: 'down', since: 9, lastResult: { ok: false, reason: 'refused' } });
  });
});
