import { describe, expect, it } from 'vitest';
import { createPicker, pickerNames } from './pickers.js';
import type { EndpointState, PickerContext } from './types.js';
import { prng as seeded } from '../../testing/prng.js';

function ep(id: string, weight = 100, active = 0): EndpointState {
  return { id, url: `http://${id}`, zone: undefined, backup: false, weight, health: 'up', admin: 'enabled', active };
}

const ctx: PickerContext = { random: Math.random };

function picks(name: string, candidates: EndpointState[], n: number, context = ctx): string[] {
  const picker = createPicker(name);
  return Array.from({ length: n }, () => picker.pick(candidates, context)?.id ?? '-');
}


describe('registry', () => {
  it('has the four algorithms of the schema and rejects unknown names with a hint', () => {
    expect(pickerNames()).toEqual(['round_robin', 'least_connections', 'weighted', 'power_of_two_choices']);
    expect(() => createPicker('random')).toThrow(/unknown load balancing algorithm "random"/);
  });
});

describe('round_robin', () => {
  it('rotates in exact order, ignoring weights but skipping weight 0', () => {
    expect(picks('round_robin', [ep('a', 5), ep('b'), ep('c')], 7)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
    expect(picks('round_robin', [ep('a'), ep('b', 0), ep('c')], 4)).toEqual(['a', 'c', 'a', 'c']);
    expect(picks('round_robin', [], 1)).toEqual(['-']);
  });
});

describe('weighted (smooth weighted round robin)', () => {
  it('gives the nginx sequence for 5:1:1', () => {
    expect(picks('weighted', [ep('a', 5), ep('b', 1), ep('c', 1)], 14)).toEqual([
      'a', 'a', 'b', 'a', 'c', 'a', 'a',
      'a', 'a', 'b', 'a', 'c', 'a', 'a',
    ]);
  });

  it('splits a canary exactly by weight and never picks weight 0', () => {
    const result = picks('weighted', [ep('stable', 95), ep('canary', 5), ep('off', 0)], 1000);
    expect(result.filter((id) => id === 'canary')).toHaveLength(50);
    expect(result.filter((id) => id === 'stable')).toHaveLength(950);
    expect(result).not.toContain('off');
  });

  it('spreads evenly: equal weights alternate', () => {
    expect(picks('weighted', [ep('a'), ep('b')], 4)).toEqual(['a', 'b', 'a', 'b']);
  });
});

describe('least_connections', () => {
  it('picks the fewest active requests', () => {
    expect(picks('least_connections', [ep('a', 100, 3), ep('b', 100, 1), ep('c', 100, 2)], 3)).toEqual(['b', 'b', 'b']);
  });

  it('breaks ties round-robin', () => {
    expect(picks('least_connections', [ep('a', 100, 1), ep('b', 100, 0), ep('c', 100, 0)], 4)).toEqual(['b', 'c', 'b', 'c']);
  });

  it('weighs active by weight (active/weight)', () => {
    // a: 4/200 = 0.02, b: 3/100 = 0.03
    expect(picks('least_connections', [ep('a', 200, 4), ep('b', 100, 3)], 1)).toEqual(['a']);
    // a: 8/200 = 0.04 > b: 3/100
    expect(picks('least_connections', [ep('a', 200, 8), ep('b', 100, 3)], 1)).toEqual(['b']);
  });

  it('fills up evenly when the caller counts in-flight requests', () => {
    const cands = [ep('a'), ep('b'), ep('c', 200)];
    const picker = createPicker('least_connections');
    for (let i = 0; i < 400; i += 1) {
      const chosen = picker.pick(cands, ctx) as EndpointState;
      chosen.active += 1;
    }
    expect(cands.map((c) => c.active)).toEqual([100, 100, 200]);
  });
});

describe('power_of_two_choices', () => {
  it('is reproducible with a seeded random source and prefers the less loaded of two', () => {
    const cands = [ep('a', 100, 10), ep('b', 100, 0), ep('c', 100, 5), ep('d', 100, 5)];
    const first = picks('power_of_two_choices', cands, 1000, { random: seeded(42) });
    expect(picks('power_of_two_choices', cands, 1000, { random: seeded(42) })).toEqual(first);
    expect(first).not.toContain('a'); // a is the most loaded: it loses every pair it is drawn into
    // b is in 3 of the 6 equally likely pairs and wins each: about 500 of 1000
    const b = first.filter((id) => id === 'b').length;
    expect(b).toBeGreaterThan(440);
    expect(b).toBeLessThan(560);
  });

  it('draws two distinct candidates', () => {
    // random() always 0: first index 0, second index 0 of the remaining -> 1
    const zero = { random: () => 0 };
    expect(picks('power_of_two_choices', [ep('a', 100, 1), ep('b', 100, 0)], 1, zero)).toEqual(['b']);
    expect(picks('power_of_two_choices', [ep('a', 100, 0), ep('b', 100, 0)], 1, zero)).toEqual(['a']);
    // random() near 1 stays in range
    expect(picks('power_of_two_choices', [ep('a'), ep('b'), ep('c')], 1, { random: () => 0.999999 })).toEqual(['c']);
  });

  it('spreads load evenly over many picks when in-flight is counted', () => {
    const cands = [ep('a'), ep('b'), ep('c'), ep('d', 300)];
    const picker = createPicker('power_of_two_choices');
    const random = seeded(7);
    for (let i = 0; i < 600; i += 1) (picker.pick(cands, { random }) as EndpointState).active += 1;
    for (const c of cands.slice(0, 3)) expect(c.active).toBeGreaterThanOrEqual(95);
    expect(cands[3]?.active).toBeGreaterThanOrEqual(280);
  });

  it('handles one candidate and none', () => {
    expect(picks('power_of_two_choices', [ep('a')], 2)).toEqual(['a', 'a']);
    expect(picks('power_of_two_choices', [ep('a', 0)], 1)).toEqual(['-']);
  });
});
