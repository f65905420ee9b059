import { describe, expect, it } from 'vitest';
import { failoverFigures, failoverProblems } from './failover-measure.js';
import type { Ack } from './sequence-writer.js';
import type { FailoverMeasurement } from './types.js';

const acks = (list: Array<[number, number, string]>): Ack[] => list.map(([seq, at, member]) => ({ seq, at, member }));

describe('failover figures', () => {
  const target = { tier: 'gold', rtoMs: 60_000, rpoMs: 1000 };
  const written = acks([[1, 100, 'm1'], [2, 110, 'm1'], [3, 120, 'm1'], [5, 2100, 'm2'], [6, 2110, 'm2']]);

  it('splits the RTO into detection, promotion and first write, and measures the write pause', () => {
    const f = failoverFigures({ faultAt: 125, from: 'm1', acks: written, unknown: [4], watched: { keyLeftAt: 1125, writableAt: 1925, newLeader: 'm2' }, present: new Set([1, 2, 3, 4, 5, 6]) }, target);
    expect(f).toMatchObject({
      to: 'm2', phasesMs: { detection: 1000, promotion: 800, firstWrite: 175 }, rto: { measuredMs: 1975, passed: true, marginMs: 58_025 },
      writePauseMs: 1980, longestGapMs: 1980, acknowledged: 5, lost: 0, unacknowledged: 1, unacknowledgedKept: 1, rpo: { measuredMs: 0, passed: true },
    });
  });

  it('clamps a phase the watcher saw end after the first write (it polls)', () => {
    const f = failoverFigures({ faultAt: 125, from: 'm1', acks: written, unknown: [], watched: { keyLeftAt: 2150, writableAt: 2160 }, present: new Set([1, 2, 3, 5, 6]) }, target);
    expect(f.phasesMs).toEqual({ detection: 1975, promotion: 0, firstWrite: 0 });
    expect(f.rto!.measuredMs).toBe(1975);
  });

  it('counts acknowledged writes missing on the new primary, and their span as the RPO', () => {
    const f = failoverFigures({ faultAt: 125, from: 'm1', acks: written, unknown: [], watched: {}, present: new Set([1, 5, 6]) }, target);
    expect(f).toMatchObject({ lost: 2, lostSeqs: [2, 3], rpo: { measuredMs: 20, passed: true } });
    const m = { ...f, synchronous: true, database: 'db', mode: 'kill', from: 'm1', problems: [], passed: false } as FailoverMeasurement;
    expect(failoverProblems(m)).toEqual(['2 acknowledged write(s) lost in synchronous mode (sequence numbers 2, 3): synchronous replication promises none']);
    expect(failoverProblems({ ...m, synchronous: false })).toEqual([]);
  });

  it('without a write on a new primary: no RTO, a problem', () => {
    const f = failoverFigures({ faultAt: 125, from: 'm1', acks: written.slice(0, 3), unknown: [], watched: {}, present: undefined }, target);
    expect(f.rto).toBeUndefined();
    expect(failoverProblems({ ...f, synchronous: true, database: 'db', mode: 'kill', from: 'm1', problems: [], passed: false } as FailoverMeasurement)).toEqual(['no write was acknowledged by a new primary']);
  });
});
