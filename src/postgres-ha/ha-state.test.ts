import { describe, expect, it } from 'vitest';
import type { GetResult } from '../coordination/etcd-client.js';
import { readHaState } from './ha-state.js';
import { databaseKeys } from './keys.js';

const keys = databaseKeys('main');

/** An etcd reader over a map of key → value, each written at its own revision. */
function reader(values: Record<string, string>): { get: (key: string) => Promise<GetResult> } {
  const entries = Object.entries(values);
  return {
    get: async (key) => {
      const i = entries.findIndex(([k]) => k === key);
      const value = entries[i]?.[1];
      return {
        revision: 100,
        kv: value === undefined ? undefined : { key, value, createRevision: 10 + i, modRevision: 10 + i, version: 1, lease: key === keys.leader ? '77' : undefined },
      };
    },
  };
}

describe('readHaState', () => {
  it('decodes every key of the contract with its revision and lease', async () => {
    const state = await readHaState(reader({
      [keys.leader]: 'm1',
      [keys.sync]: JSON.stringify({ leader: 'm1', members: ['m2'] }),
      [keys.optime]: '0/3000060',
      [keys.member('m1')]: JSON.stringify({ role: 'primary', timeline: 2, lsn: '0/3000060', fenced: false, host: '127.0.0.1', port: 5432, at: '2026-12-07T08:00:00Z' }),
      [keys.switchover]: JSON.stringify({ from: 'm1', requestedAt: '2026-12-07T08:00:00Z' }),
      [keys.history]: JSON.stringify([{ kind: 'failover', to: 'm1', timeline: 2, at: '2026-12-07T07:00:00Z', durationMs: 900 }]),
    }), keys, ['m1', 'm2']);
    expect(state.leader).toEqual({ value: 'm1', modRevision: 10, lease: '77' });
    expect(state.sync?.value).toEqual({ leader: 'm1', members: ['m2'] });
    expect(state.optime?.value).toBe(0x3000060n);
    expect(state.members.get('m1')?.value.role).toBe('primary');
    expect(state.members.has('m2')).toBe(false);
    expect(state.switchover?.value).toEqual({ from: 'm1', requestedAt: '2026-12-07T08:00:00Z' });
    expect(state.history?.value).toEqual([{ kind: 'failover', from: undefined, to: 'm1', timeline: 2, at: '2026-12-07T07:00:00Z', durationMs: 900 }]);
    expect(state.malformed).toEqual([]);
    expect(state.revision).toBe(100);
  });

  it('reads a malformed value as absent and names its key, instead of failing the whole read', async () => {
    const state = await readHaState(reader({
      [keys.sync]: '{"leader": "m1", "members": "m2"}',
      [keys.optime]: 'not an lsn',
      [keys.member('m1')]: '{not json',
      [keys.member('m2')]: JSON.stringify({ role: 'leader', timeline: 1, lsn: '0/1', fenced: false, host: 'h', port: 1 }),
      [keys.failover]: JSON.stringify({ to: 'm2' }),
    }), keys, ['m1', 'm2']);
    expect(state.sync).toBeUndefined();
    expect(state.optime).toBeUndefined();
    expect(state.members.size).toBe(0);
    expect(state.failover).toBeUndefined();
    expect(state.malformed.sort()).toEqual([keys.failover, keys.member('m1'), keys.member('m2'), keys.optime, keys.sync].sort());
  });
});
