import { describe, expect, it } from 'vitest';
import { decide, formatLsn, parseLsn, syncSteps, type Action, type Observation, type PeerView } from './decide.js';

const MB = 1024n * 1024n;

function peer(name: string, lsn: bigint, extra: Partial<PeerView> = {}): PeerView {
  return { name, visible: true, role: 'replica', timeline: 1, lsn, ...extra };
}

function obs(extra: Partial<Observation> = {}): Observation {
  return {
    me: 'm2', role: 'replica', fenced: false, holdsLease: false, etcdReachable: true,
    leader: undefined, following: 'm1', timeline: 1, lsn: 100n,
    peers: [peer('m1', 0n, { visible: false, role: 'stopped' }), peer('m3', 90n)],
    syncSet: ['m2', 'm3'], leaderOptime: 100n,
    settings: { synchronousMode: true, maximumLagOnFailover: MB },
    ...extra,
  };
}

type Row = [title: string, observation: Partial<Observation>, expected: Action['kind'], leader?: string];

const sync = { synchronousMode: true, maximumLagOnFailover: MB };
const async = { synchronousMode: false, maximumLagOnFailover: MB };

const rows: Row[] = [
  // primary
  ['primary holding the lease stays', { role: 'primary', holdsLease: true, leader: 'm2' }, 'stay'],
  ['primary holding the lease stays while etcd is unreachable (the deadline fences it)', { role: 'primary', holdsLease: true, etcdReachable: false }, 'stay'],
  ['primary holding a lease while the key names another fences', { role: 'primary', holdsLease: true, leader: 'm3' }, 'fence'],
  ['primary without the lease, key free: takes it (first start)', { role: 'primary' }, 'acquire-leadership'],
  ['primary without the lease, another holds the key: demotes', { role: 'primary', leader: 'm3' }, 'fence'],
  ['primary without the lease, key names us (old lease): fences', { role: 'primary', leader: 'm2' }, 'fence'],
  ['primary without the lease, etcd unreachable: fences', { role: 'primary', etcdReachable: false }, 'fence'],
  ['fenced primary never takes the key back: PostgreSQL still running is fenced again', { role: 'primary', fenced: true }, 'fence'],
  ['fenced and stopped, another leader: rejoin as its replica (rewind)', { role: 'stopped', fenced: true, leader: 'm3' }, 'rejoin', 'm3'],
  ['fenced and stopped, no leader: stays down', { role: 'stopped', fenced: true }, 'wait'],
  ['fenced and stopped, no leader, still the recorded last primary: restart read-only', { role: 'stopped', fenced: true, syncLeader: 'm2' }, 'rejoin', ''],
  ['fenced last primary waits a TTL for a standby to take over first', { role: 'stopped', fenced: true, syncLeader: 'm2', vacantMs: 3000, settings: { ...sync, restartInPlaceAfterMs: 10_000 } }, 'wait'],
  ['fenced last primary restarts once nobody took over within a TTL', { role: 'stopped', fenced: true, syncLeader: 'm2', vacantMs: 10_000, settings: { ...sync, restartInPlaceAfterMs: 10_000 } }, 'rejoin', ''],
  ['fenced and stopped, etcd unreachable: stays down', { role: 'stopped', fenced: true, etcdReachable: false, leader: 'm3' }, 'wait'],
  ['fenced member still holding the lease resigns', { role: 'stopped', fenced: true, holdsLease: true }, 'fence'],
  // stopped / unknown
  ['PostgreSQL died while we lead: fence and resign', { role: 'stopped', holdsLease: true, leader: 'm2' }, 'fence'],
  ['stopped, another leader: start as its replica', { role: 'stopped', leader: 'm1' }, 'rejoin', 'm1'],
  ['stopped, no leader: start read-only, no upstream', { role: 'stopped' }, 'rejoin', ''],
  ['stopped, etcd unreachable: start read-only, no upstream', { role: 'stopped', etcdReachable: false, leader: 'm1' }, 'rejoin', ''],
  ['unknown while holding the lease: stay', { role: 'unknown', holdsLease: true }, 'stay'],
  ['unknown without the lease: wait', { role: 'unknown' }, 'wait'],
  // replica with a leader
  ['replica that won the key promotes', { holdsLease: true, leader: 'm2' }, 'promote'],
  ['replica following the leader stays', { leader: 'm1' }, 'stay'],
  ['replica sees a new leader: follow it', { leader: 'm3' }, 'follow', 'm3'],
  ['replica with no upstream follows the leader', { leader: 'm1', following: undefined }, 'follow', 'm1'],
  ['replica, etcd unreachable: wait', { etcdReachable: false }, 'wait'],
  ['replica, key names us under an old lease: wait', { leader: 'm2' }, 'wait'],
  // replica, key free, synchronous mode
  ['sync: in the set, most advanced, every set member seen: acquire', {}, 'acquire-leadership'],
  ['sync: not in the recorded set', { syncSet: ['m3'] }, 'wait'],
  ['sync: no recorded set: nobody takes over', { syncSet: undefined }, 'wait'],
  ['sync: empty recorded set: nobody takes over', { syncSet: [] }, 'wait'],
  ['sync: another set member is ahead', { peers: [peer('m3', 101n)] }, 'wait'],
  ['sync: another set member on a later timeline', { peers: [peer('m3', 1n, { timeline: 2 })] }, 'wait'],
  ['sync: we are on a later timeline than a further peer', { timeline: 2, peers: [peer('m3', 500n)] }, 'acquire-leadership'],
  ['sync: equal position, lower name wins (m3 is us)', { me: 'm3', peers: [peer('m2', 100n)] }, 'wait'],
  ['sync: equal position, we have the lower name', { peers: [peer('m3', 100n)] }, 'acquire-leadership'],
  ['sync: a set member is not visible: it may hold the only copy', { peers: [peer('m3', 0n, { visible: false })] }, 'wait'],
  ['sync: a set member is stopped', { peers: [peer('m3', 0n, { role: 'stopped' })] }, 'wait'],
  ['sync: a set member has no member entry at all', { peers: [] }, 'wait'],
  ['sync: we are the only set member (primary and others gone)', { syncSet: ['m2'], peers: [] }, 'acquire-leadership'],
  ['sync: primary and every sync standby gone, we are not in the set', { syncSet: ['m3'], peers: [peer('m3', 0n, { visible: false })] }, 'wait'],
  ['sync: a more advanced non-member does not block us', { syncSet: ['m2'], peers: [peer('m3', 999n)] }, 'acquire-leadership'],
  ['sync: lag does not matter in synchronous mode', { leaderOptime: 100n * MB }, 'acquire-leadership'],
  ['sync: the recorded leader (the last primary) may stand even with an empty set', { syncSet: [], syncLeader: 'm2' }, 'acquire-leadership'],
  ['sync: the recorded leader stands even when set members are not visible', { syncSet: ['m3'], syncLeader: 'm2', peers: [peer('m3', 0n, { visible: false })] }, 'acquire-leadership'],
  ['sync: another recorded leader does not make us eligible', { syncSet: [], syncLeader: 'm1' }, 'wait'],
  // replica, key free, asynchronous mode
  ['async: within maximum lag, most advanced', { settings: async, syncSet: undefined }, 'acquire-leadership'],
  ['async: lag above maximum_lag_on_failover', { settings: async, leaderOptime: 100n + 2n * MB }, 'wait'],
  ['async: lag exactly the maximum is allowed', { settings: async, leaderOptime: 100n + MB }, 'acquire-leadership'],
  ['async: no known optime: lag not checked', { settings: async, leaderOptime: undefined }, 'acquire-leadership'],
  ['async: a visible replica is ahead', { settings: async, peers: [peer('m3', 200n)] }, 'wait'],
  ['async: an invisible replica ahead is ignored', { settings: async, peers: [peer('m3', 200n, { visible: false })] }, 'acquire-leadership'],
  ['async: the set does not matter', { settings: async, syncSet: ['m3'] }, 'acquire-leadership'],
  ['async: equal, lower name wins', { settings: async, me: 'm3', peers: [peer('m2', 100n)] }, 'wait'],
  // planned switchover and manual failover
  ['leader asked to switch over hands over', { role: 'primary', holdsLease: true, leader: 'm2', switchover: { from: 'm2', to: 'm3' } }, 'hand-over'],
  ['leader ignores a switchover naming another leader', { role: 'primary', holdsLease: true, leader: 'm2', switchover: { from: 'm1', to: 'm3' } }, 'stay'],
  ['switchover target takes the free key even at an equal position with a lower-named rival', { me: 'm3', peers: [peer('m2', 100n)], syncSet: ['m2', 'm3'], switchover: { from: 'm1', to: 'm3' } }, 'acquire-leadership'],
  ['switchover target still refuses when a rival is further', { me: 'm3', peers: [peer('m2', 101n)], syncSet: ['m2', 'm3'], switchover: { from: 'm1', to: 'm3' } }, 'wait'],
  ['others wait for the switchover target', { switchover: { from: 'm1', to: 'm3' } }, 'wait'],
  ['manual failover with data loss allowed ignores the set', { syncSet: ['m3'], peers: [peer('m3', 0n, { visible: false })], failover: { to: 'm2', allowDataLoss: true } }, 'acquire-leadership'],
  ['manual failover without data loss still follows the rules', { syncSet: ['m3'], failover: { to: 'm2', allowDataLoss: false } }, 'wait'],
  ['manual failover to another member: wait', { failover: { to: 'm3', allowDataLoss: true } }, 'wait'],
  ['manual failover never overrides a leader', { leader: 'm1', failover: { to: 'm2', allowDataLoss: true } }, 'stay'],
];

describe('decide', () => {
  it.each(rows)('%s', (_title, o, expected, leader) => {
    const action = decide(obs(o));
    expect(action.kind).toBe(expected);
    if (leader !== undefined && (action.kind === 'follow' || action.kind === 'rejoin')) expect(action.leader ?? '').toBe(leader);
    expect(action.reason.length).toBeGreaterThan(0);
  });

  it('resigns when PostgreSQL died under the lease, not when merely demoted', () => {
    expect(decide(obs({ role: 'stopped', holdsLease: true }))).toMatchObject({ kind: 'fence', resign: true });
    expect(decide(obs({ role: 'primary', leader: 'm3' }))).toMatchObject({ kind: 'fence', resign: false });
  });

  it('every combination of flags yields an action and never promotes without the lease', () => {
    for (const role of ['primary', 'replica', 'stopped', 'unknown'] as const) {
      for (const holdsLease of [false, true]) {
        for (const fenced of [false, true]) {
          for (const etcdReachable of [false, true]) {
            for (const leader of [undefined, 'm1', 'm2', 'm3']) {
              for (const settings of [sync, async]) {
                const action = decide(obs({ role, holdsLease, fenced, etcdReachable, leader, settings }));
                if (action.kind === 'promote') expect(holdsLease && role === 'replica' && !fenced).toBe(true);
                if (action.kind === 'acquire-leadership') expect(!fenced && etcdReachable && leader === undefined).toBe(true);
                if (fenced) expect(['wait', 'fence', 'rejoin']).toContain(action.kind);
                if (fenced && action.kind === 'rejoin') expect(action.leader !== 'm2' && role === 'stopped').toBe(true);
                if (action.kind === 'follow' || action.kind === 'rejoin') expect(action.leader).not.toBe('m2');
              }
            }
          }
        }
      }
    }
  });
});

describe('syncSteps keeps the recorded set a superset of what PostgreSQL applies', () => {
  const cases: [string, string[], string[], string[]][] = [
    ['nothing to do', ['m2', 'm3'], ['m2', 'm3'], ['m2', 'm3']],
    ['first standby appears', [], [], ['m2']],
    ['a standby is added', ['m2'], ['m2'], ['m2', 'm3']],
    ['a standby is removed', ['m2', 'm3'], ['m2', 'm3'], ['m2']],
    ['replace one by another', ['m2'], ['m2'], ['m3']],
    ['every standby gone', ['m2', 'm3'], ['m2', 'm3'], []],
    ['inherited stale record after promotion', ['m2', 'm3'], [], ['m3']],
    ['record lags behind the applied set', ['m2'], ['m2', 'm3'], ['m2', 'm3']],
  ];
  it.each(cases)('%s', (_title, recorded, applied, wanted) => {
    let rec = [...recorded];
    let app = [...applied];
    const invariant = (): void => expect(app.every((n) => rec.includes(n)) || !applied.every((n) => recorded.includes(n))).toBe(true);
    for (const step of syncSteps(recorded, applied, wanted)) {
      if (step.kind === 'record') rec = step.members;
      else app = step.members;
      invariant();
    }
    expect([...app].sort()).toEqual([...wanted].sort());
    expect([...rec].sort()).toEqual([...wanted].sort());
  });

  it('records an addition once when the union is already the wanted set', () => {
    expect(syncSteps([], [], ['m2'])).toEqual([{ kind: 'record', members: ['m2'] }, { kind: 'apply', members: ['m2'] }]);
  });

  it('records before applying an addition and after applying a removal', () => {
    expect(syncSteps(['m2'], ['m2'], ['m2', 'm3']).map((s) => s.kind)).toEqual(['record', 'apply']);
    expect(syncSteps(['m2', 'm4'], ['m2'], ['m2', 'm3']).map((s) => s.kind)).toEqual(['record', 'apply', 'record']);
    expect(syncSteps(['m2', 'm3'], ['m2', 'm3'], ['m2']).map((s) => s.kind)).toEqual(['apply', 'record']);
  });
});

describe('LSN text', () => {
  it('round-trips and orders', () => {
    expect(parseLsn('0/3000060')).toBe(0x3000060n);
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) + 0xb374d848n);
    expect(formatLsn(parseLsn('16/B374D848'))).toBe('16/B374D848');
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
    expect(() => parseLsn('nope')).toThrow(RangeError);
  });
});
