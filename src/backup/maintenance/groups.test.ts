import { describe, expect, it } from 'vitest';
import { prng } from '../../testing/prng.js';
import type { RetentionPolicy } from '../retention/index.js';
import type { Snapshot, SnapshotRef } from '../repo/types.js';
import { planForget } from './forget.js';
import { groupKey, groupOf, type GroupSelection } from './groups.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const HOUR = 3_600_000;

function snapshot(id: string, time: number, source: Partial<Snapshot['source']> & { tags?: string[]; host?: string; paths?: string[] }): SnapshotRef {
  const { tags = [], host = 'db1', paths = ['/srv/data'], ...rest } = source;
  return {
    id,
    snapshot: {
      version: 1, time: new Date(time).toISOString(), hostname: host, username: 'root', paths, tags, tree: 'ff'.repeat(32),
      source: { kind: 'paths', ...rest },
      summary: { files: 0, dirs: 0, bytes: 0, addedBytes: 0, storedBytes: 0, durationMs: 0, unchangedFiles: 0, skipped: [] },
    },
  };
}

describe('snapshot groups', () => {
  it('groups by policy, by the policy: tag of older snapshots, and otherwise by host and path set', () => {
    expect(groupKey(groupOf(snapshot('a', T0, { policy: 'main-db', kind: 'postgres' }).snapshot))).toBe('policy main-db');
    expect(groupKey(groupOf(snapshot('b', T0, { tags: ['nightly', 'policy:cache'] }).snapshot))).toBe('policy cache');
    expect(groupKey(groupOf(snapshot('c', T0, { host: 'web1', paths: ['/etc', '/srv'] }).snapshot))).toBe('host web1 paths /etc,/srv');
    expect(groupKey(groupOf(snapshot('d', T0, { host: 'web1', paths: ['/srv', '/etc'] }).snapshot))).toBe('host web1 paths /etc,/srv');
  });

  it('refuses to forget without a group selection and says how to choose', () => {
    const all = [snapshot('a', T0, { policy: 'alpha' })];
    for (const select of [undefined, {}, { paths: [] }] as unknown as GroupSelection[]) {
      expect(() => planForget(all, { keep_last: 1 }, { select })).toThrow(/which snapshots[\s\S]*/);
    }
    try {
      planForget(all, { keep_last: 1 }, { select: {} as GroupSelection });
    } catch (err) {
      expect((err as { hint?: string }).hint).toMatch(/--policy NAME[\s\S]*--all-groups/);
    }
  });

  it('the two-policy scenario: alpha keeping 1 leaves beta\'s 3 snapshots alone', () => {
    const beta = [1, 2, 3].map((i) => snapshot(`b${i}`, T0 + i * HOUR, { policy: 'beta' }));
    const alpha = snapshot('a1', T0 + 4 * HOUR, { policy: 'alpha' });
    const plan = planForget([...beta, alpha], { keep_last: 1 }, { select: { policy: 'alpha' }, now: new Date(T0 + 5 * HOUR) });
    expect(plan.map((g) => g.key)).toEqual(['policy alpha']);
    expect(plan[0]!.remove).toEqual([]);
    const betaPlan = planForget([...beta, alpha], { keep_last: 5 }, { select: { policy: 'beta' }, now: new Date(T0 + 5 * HOUR) });
    expect(betaPlan[0]!.keep.map((k) => k.id)).toEqual(['b3', 'b2', 'b1']);
  });

  it('property: over random histories, policies and selections, nothing outside the selected groups is ever removed', () => {
    const rand = prng(20261207);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
    const policies = ['alpha', 'beta', 'gamma', 'main-db'];
    const hosts = ['web1', 'web2'];
    const pathSets = [['/etc'], ['/srv', '/etc'], ['/var/lib/app']];
    for (let round = 0; round < 400; round++) {
      const count = 1 + Math.floor(rand() * 40);
      const snapshots: SnapshotRef[] = [];
      for (let i = 0; i < count; i++) {
        const time = T0 + Math.floor(rand() * 400 * 24) * HOUR;
        const kind = rand();
        if (kind < 0.5) snapshots.push(snapshot(`s${round}-${i}`, time, { policy: pick(policies) }));
        else if (kind < 0.65) snapshots.push(snapshot(`s${round}-${i}`, time, { tags: [`policy:${pick(policies)}`] }));
        else snapshots.push(snapshot(`s${round}-${i}`, time, { host: pick(hosts), paths: pick(pathSets) }));
      }
      const rules: RetentionPolicy = {};
      for (const rule of ['keep_last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const) if (rand() < 0.4) rules[rule] = 1 + Math.floor(rand() * 5);
      if (Object.keys(rules).length === 0) rules.keep_last = 1;
      const choice = rand();
      const select: GroupSelection = choice < 0.6 ? { policy: pick(policies) } : choice < 0.8 ? { host: pick(hosts) } : { host: pick(hosts), paths: pick(pathSets) };
      const plan = planForget(snapshots, rules, { select, now: new Date(T0 + 500 * 24 * HOUR) });
      const inGroup = (s: SnapshotRef): boolean => {
        const g = groupOf(s.snapshot);
        if ('policy' in select) return g.kind === 'policy' && g.policy === select.policy;
        if (g.kind !== 'paths' || ('host' in select && select.host && g.host !== select.host)) return false;
        return !('paths' in select) || !select.paths || [...select.paths].sort().join() === g.paths.join();
      };
      const removed = new Set(plan.flatMap((g) => g.remove.map((r) => r.id)));
      const judged = new Set(plan.flatMap((g) => [...g.keep.map((k) => k.id), ...g.remove.map((r) => r.id)]));
      for (const s of snapshots) {
        if (!inGroup(s)) {
          expect(removed.has(s.id), `round ${round}: ${s.id} is outside ${JSON.stringify(select)}`).toBe(false);
          expect(judged.has(s.id)).toBe(false);
        } else {
          expect(judged.has(s.id)).toBe(true);
        }
      }
      // Every selected group keeps its newest snapshot: no rule set removes a whole group.
      for (const g of plan) expect(g.keep.length).toBeGreaterThan(0);
    }
  });
});
