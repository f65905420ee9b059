import { describe, expect, it } from 'vitest';
import type { GetResult } from '../../../coordination/index.js';
import { databaseKeys, type DirectView, type EtcdView, type MemberRecord } from '../../../postgres-ha/index.js';
import { renderStatus } from './render.js';
import { readRecorded, shortReason, standbyNames, type RecordedView, type ReplicationRead } from '../../../postgres-ha/index.js';
import { summarize, type StatusFacts, type StatusSubject } from './status.js';

const SUBJECT: StatusSubject = { name: 'main', synchronous: true, etcdEndpoints: ['http://127.0.0.1:2379'] };
const AT = '2026-03-01T12:00:10.000Z';

function live(name: string, port: number, o: Partial<DirectView>): DirectView {
  return { name, host: '127.0.0.1', port, reachable: true, ...o };
}

function record(o: Partial<MemberRecord>): MemberRecord {
  return { role: 'replica', timeline: 2, lsn: '0/5000000', fenced: false, host: '127.0.0.1', port: 0, ...o };
}

function recorded(view: Partial<EtcdView>, revisions: Partial<RecordedView['revisions']> = {}): RecordedView {
  return {
    view: { leader: undefined, members: {}, sync: undefined, optime: undefined, history: [], switchover: undefined, failover: undefined, ...view },
    revision: 900, revisions: { members: {}, ...revisions },
  };
}

function facts(o: Partial<StatusFacts>): StatusFacts {
  return { observedAt: AT, direct: [], recorded: undefined, etcdError: undefined, replication: [], ...o };
}

/** The lines of the live table (between its header and the first blank line). */
function liveTable(text: string): string {
  return text.slice(text.indexOf('MEMBER'), text.indexOf('\n\n', text.indexOf('MEMBER')));
}

describe('db status: live and recorded facts apart', () => {
  // The issue's failover: pg1's postmaster killed, pg3 promoted, pg1's and pg3's records a loop old.
  const failover = facts({
    direct: [
      { name: 'pg1', host: '127.0.0.1', port: 5433, reachable: false, error: 'connect ECONNREFUSED 127.0.0.1:5433' },
      live('pg2', 5434, { role: 'replica', timeline: 3, lsn: '0/9000000', receiver: 'streaming', upstream: '127.0.0.1:5435' }),
      live('pg3', 5435, { role: 'primary', timeline: 3, lsn: '0/9000100' }),
    ],
    recorded: recorded({
      leader: { value: 'pg3', leaseId: '7587', modRevision: 880 },
      members: {
        pg1: record({ role: 'unknown', timeline: 0, lsn: '0/0', fenced: true, lagBytes: 72_250_000, state: 'fenced; pg3 leads → rejoin' }),
        pg2: record({ timeline: 3, lsn: '0/9000000', following: 'pg3', state: 'replica of pg3', at: '2026-03-01T12:00:08.500Z' }),
        pg3: record({ role: 'replica', timeline: 2, lsn: '0/8FFFF00', following: 'pg1', state: 'replica of pg1' }),
      },
      sync: { leader: 'pg3', members: ['pg2'] },
      optime: '0/8FFFF00',
    }, { leader: 880, sync: 885, optime: 870, members: { pg1: 890, pg2: 899, pg3: 860 } }),
    replication: [{ member: 'pg3', inRecovery: false, synchronousStandbyNames: 'ANY 1 ("pg2")', senders: [{ applicationName: 'pg2', user: 'replicator', state: 'streaming', syncState: 'quorum' }] }],
  });

  it('a member that does not answer is unreachable with the reason: no LSN, no lag, its record kept apart', () => {
    const s = summarize(SUBJECT, failover);
    const pg1 = s.members[0]!;
    expect(pg1).toMatchObject({ role: 'unknown', state: 'unreachable', reachable: false, lsn: null, timeline: null, lagBytes: null, reason: 'connection refused', fenced: true, recordRevision: 890, recordAt: null, recordAgeMs: null });
    expect(pg1.sources).toMatchObject({ role: null, lsn: null, lagBytes: null, fenced: 'recorded', state: 'live' });
    const text = renderStatus(s);
    expect(liveTable(text)).toMatch(/^pg1 +127\.0\.0\.1:5433 +unreachable +connection refused +- +- +- +recorded no \/ live not connected$/m);
    expect(liveTable(text)).not.toContain('0/0');
    expect(liveTable(text)).not.toContain('MiB');
    // The record: the manager could not read its PostgreSQL either, so no position is shown from it.
    expect(text).toMatch(/^pg1 +unknown +FENCED +- +- +- +- +rev 890 +fenced; pg3 leads → rejoin$/m);
    expect(text).not.toMatch(/\b0\/0\b/);
  });

  it('role and state come from the live answer; a record that contradicts it is a MISMATCH, not part of the line', () => {
    const s = summarize(SUBJECT, failover);
    const pg3 = s.members[2]!;
    expect(pg3).toMatchObject({ role: 'primary', state: 'read-write', leader: true, lagBytes: 0, sources: { role: 'live', state: 'live' } });
    expect(s.members[1]).toMatchObject({ state: 'streaming from pg3', upstream: 'pg3', lagBytes: 256, sources: { lagBytes: 'live' }, recordAt: '2026-03-01T12:00:08.500Z', recordAgeMs: 1500 });
    expect(s.mismatches).toEqual([
      { member: 'pg3', fact: 'role', recorded: 'replica', live: 'primary', message: 'pg3: its record says replica (rev 860); its PostgreSQL answers as primary' },
    ]);
    const text = renderStatus(s);
    expect(text).toMatch(/^pg3 \* +127\.0\.0\.1:5435 +primary +read-write +3 +0\/9000100 +- +recorded no$/m);
    expect(text).toMatch(/^pg2 +127\.0\.0\.1:5434 +replica +streaming from pg3 +3 +0\/9000000 +256 B +recorded yes \/ live quorum$/m);
    expect(text).toContain('MISMATCH pg3: its record says replica (rev 860); its PostgreSQL answers as primary');
    expect(text).toMatch(/^pg2 +replica +no +3 +0\/9000000 +- +pg3 +rev 899, 1\.5 s old +replica of pg3$/m);
    expect(text).toContain("pg3's replication (live): synchronous_standby_names = 'ANY 1 (\"pg2\")'\n  pg2: streaming, sync_state quorum, user replicator\n  not connected: pg1");
    expect(text).toContain('* leader key: pg3 (lease 7587, rev 880)');
    expect(text).toContain('synchronous set: [pg2] (recorded by pg3, rev 885)');
    expect(text).not.toMatch(/running \(|streaming \(/);
  });

  it('with no primary answering, a replica\'s lag is measured against the recorded optime and says so', () => {
    const s = summarize(SUBJECT, facts({
      direct: [live('pg2', 5434, { role: 'replica', timeline: 2, lsn: '0/5000000' })],
      recorded: recorded({ optime: '0/5000400' }),
    }));
    expect(s.members[0]).toMatchObject({ lagBytes: 1024, state: 'not streaming', sources: { lagBytes: 'live vs recorded optime', syncState: null } });
    expect(renderStatus(s)).toMatch(/^pg2 +127\.0\.0\.1:5434 +replica +not streaming +2 +0\/5000000 +1\.0 KiB \(vs optime\) +recorded - \/ live -$/m);
  });

  it('synchronous_standby_names changed behind the leader: each standby recorded yes / live async, flagged, and in --json', () => {
    const s = summarize(SUBJECT, facts({
      direct: [
        live('pg1', 5433, { role: 'primary', timeline: 1, lsn: '0/3000000' }),
        live('pg2', 5434, { role: 'replica', timeline: 1, lsn: '0/3000000', receiver: 'streaming', upstream: '127.0.0.1:5433' }),
        live('pg3', 5435, { role: 'replica', timeline: 1, lsn: '0/3000000', receiver: 'streaming', upstream: '127.0.0.1:5433' }),
      ],
      recorded: recorded({ leader: { value: 'pg1', leaseId: '1', modRevision: 5 }, sync: { leader: 'pg1', members: ['pg2', 'pg3'] } }, { sync: 40 }),
      replication: [{
        member: 'pg1', inRecovery: false, synchronousStandbyNames: '',
        senders: [
          { applicationName: 'pg2', user: 'bulwark', state: 'streaming', syncState: 'async' },
          { applicationName: 'pg3', user: 'bulwark', state: 'streaming', syncState: 'async' },
        ],
      }],
    }));
    expect(s.members.map((m) => [m.name, m.inSyncSet, m.replication?.syncState ?? null, m.syncMismatch])).toEqual([
      ['pg1', false, null, false], ['pg2', true, 'async', true], ['pg3', true, 'async', true],
    ]);
    expect(s.members[1]?.replication).toEqual({ primary: 'pg1', user: 'bulwark', state: 'streaming', syncState: 'async' });
    expect(s.mismatches.map((m) => [m.member, m.fact, m.recorded, m.live])).toEqual([
      ['pg2', 'sync', 'yes', 'async'], ['pg3', 'sync', 'yes', 'async'], ['pg1', 'synchronous_standby_names', '[pg2, pg3]', ''],
    ]);
    expect(s.replication).toEqual([{ primary: 'pg1', leader: true, synchronousStandbyNames: '', synchronousStandbys: [], senders: expect.any(Array) as unknown }]);
    const text = renderStatus(s);
    expect(text).toMatch(/^pg2 +127\.0\.0\.1:5434 +replica +streaming from pg1 +1 +0\/3000000 +0 B +recorded yes \/ live async {2}← mismatch$/m);
    expect(text).toMatch(/^pg3 .*recorded yes \/ live async {2}← mismatch$/m);
    expect(text).toContain("pg1's replication (live): synchronous_standby_names = '' (none: commits wait for no standby)");
    expect(text).toContain('MISMATCH pg2: the recorded synchronous set lists it, but pg1 replicates to it async (commits do not wait for it)');
    expect(text).toContain('MISMATCH pg1\'s synchronous_standby_names is \'\': commits are acknowledged without waiting for any standby, while the recorded synchronous set is [pg2, pg3] (rev 40)');
  });

  it('agreeing facts raise nothing; a standby PostgreSQL counts but the set does not list is flagged the other way', () => {
    const base = {
      direct: [
        live('pg1', 5433, { role: 'primary', timeline: 1, lsn: '0/3000000' }),
        live('pg2', 5434, { role: 'replica', timeline: 1, lsn: '0/3000000', receiver: 'streaming' }),
        live('pg3', 5435, { role: 'replica', timeline: 1, lsn: '0/3000000', receiver: 'streaming' }),
      ],
      recorded: recorded({ leader: { value: 'pg1', leaseId: undefined, modRevision: 5 }, sync: { leader: 'pg1', members: ['pg1', 'pg2', 'pg3'] } }),
    };
    const senders = [
      { applicationName: 'pg2', user: 'bulwark', state: 'streaming', syncState: 'quorum' },
      { applicationName: 'pg3', user: 'bulwark', state: 'streaming', syncState: 'quorum' },
    ];
    const ok = summarize(SUBJECT, facts({ ...base, replication: [{ member: 'pg1', inRecovery: false, synchronousStandbyNames: 'ANY 1 ("pg2", "pg3")', senders }] }));
    expect(ok.mismatches).toEqual([]);
    expect(renderStatus(ok)).not.toContain('mismatch');
    expect(renderStatus(ok)).not.toContain('MISMATCH');

    const narrowed = { ...base, recorded: recorded({ ...base.recorded.view, sync: { leader: 'pg1', members: ['pg2'] } }) };
    const extra = summarize(SUBJECT, facts({ ...narrowed, replication: [{ member: 'pg1', inRecovery: false, synchronousStandbyNames: 'ANY 1 ("pg2", "pg3")', senders }] }));
    expect(extra.members[2]).toMatchObject({ inSyncSet: false, syncMismatch: true });
    expect(extra.mismatches.map((m) => m.message)).toEqual([
      'pg3: not in the recorded synchronous set, but pg1 counts it as quorum (a commit may be acknowledged by it alone)',
      'pg1\'s synchronous_standby_names is \'ANY 1 ("pg2", "pg3")\', while the recorded synchronous set is [pg2]',
    ]);
  });

  it('a primary whose record says fenced is flagged; a recorded replica that does not answer is flagged', () => {
    const s = summarize(SUBJECT, facts({
      direct: [live('pg1', 5433, { role: 'primary', timeline: 1, lsn: '0/3000000' }), { name: 'pg2', host: '127.0.0.1', port: 5434, reachable: false, error: 'timeout expired' }],
      recorded: recorded({ members: { pg1: record({ role: 'primary', fenced: true }), pg2: record({}) } }, { members: { pg1: 3, pg2: 4 } }),
    }));
    expect(s.mismatches.map((m) => m.message)).toEqual([
      'pg1: its record says fenced (rev 3); its PostgreSQL answers as a writable primary',
      'pg2: its record says replica (rev 4); its PostgreSQL does not answer here (no answer in time)',
    ]);
    expect(renderStatus(s)).toContain('pg2: timeout expired');
  });

  it('--json keeps every field it had, and adds the sources, revisions, replication and mismatches', () => {
    const s = JSON.parse(JSON.stringify(summarize(SUBJECT, failover))) as Record<string, unknown> & { members: Array<Record<string, unknown>> };
    for (const key of ['database', 'synchronous', 'coordination', 'etcd', 'leader', 'sync', 'optime', 'pending', 'lastChange', 'history', 'writable', 'members', 'notes']) expect(s).toHaveProperty(key);
    for (const key of ['observedAt', 'etcdRevision', 'syncRevision', 'optimeRevision', 'replication', 'mismatches']) expect(s).toHaveProperty(key);
    for (const key of ['name', 'host', 'port', 'role', 'state', 'reachable', 'timeline', 'lsn', 'lagBytes', 'fenced', 'leader', 'inSyncSet', 'record']) expect(s.members[1]).toHaveProperty(key);
    for (const key of ['upstream', 'replication', 'syncMismatch', 'recordRevision', 'recordAt', 'recordAgeMs', 'sources']) expect(s.members[1]).toHaveProperty(key);
    expect(s.leader).toEqual({ member: 'pg3', lease: '7587', revision: 880 });
    expect(s).toMatchObject({ observedAt: AT, etcdRevision: 900, syncRevision: 885, optimeRevision: 870 });
  });

  it('without etcd only the live table is shown', () => {
    const s = summarize({ ...SUBJECT, etcdEndpoints: undefined }, facts({ direct: [live('pg1', 5433, { role: 'primary', timeline: 1, lsn: '0/3000000' })] }));
    const text = renderStatus(s);
    expect(text).not.toContain('recorded:');
    expect(text).toContain('note: automatic failover is off');
    expect(s.members[0]).toMatchObject({ fenced: null, inSyncSet: null, record: null, recordRevision: null, sources: { fenced: null, inSyncSet: null } });
  });
});

describe('status readings', () => {
  it('reads the keys with their revisions', async () => {
    const keys = databaseKeys('main');
    const store = new Map<string, { value: string; rev: number }>([
      [keys.leader, { value: 'pg1', rev: 10 }], [keys.sync, { value: '{"leader":"pg1","members":["pg2"]}', rev: 11 }],
      [keys.member('pg2'), { value: JSON.stringify(record({ at: AT })), rev: 12 }], [keys.member('pg3'), { value: 'not json', rev: 13 }],
    ]);
    const etcd = {
      get: (key: string): Promise<GetResult> => {
        const kv = store.get(key);
        return Promise.resolve({ revision: 20, kv: kv && { key, value: kv.value, createRevision: kv.rev, modRevision: kv.rev, version: 1, lease: undefined } });
      },
    };
    const r = await readRecorded(etcd, keys, ['pg1', 'pg2', 'pg3']);
    expect(r.revision).toBe(20);
    expect(r.revisions).toEqual({ leader: 10, sync: 11, members: { pg2: 12 } });
    expect(r.view.leader).toMatchObject({ value: 'pg1', modRevision: 10 });
    expect(Object.keys(r.view.members)).toEqual(['pg2']);
    expect(r.view.members.pg2?.at).toBe(AT);
  });

  it('standby names in every form synchronous_standby_names takes', () => {
    expect(standbyNames('')).toEqual([]);
    expect(standbyNames('ANY 1 ("m2", "m3")')).toEqual(['m2', 'm3']);
    expect(standbyNames('FIRST 2 (m2,m3)')).toEqual(['m2', 'm3']);
    expect(standbyNames('2 (m2, "we""ird")')).toEqual(['m2', 'we"ird']);
    expect(standbyNames('m2, m3')).toEqual(['m2', 'm3']);
    expect(standbyNames('*')).toEqual(['*']);
  });

  it('short reasons', () => {
    expect(shortReason('connect ECONNREFUSED 127.0.0.1:5433')).toBe('connection refused');
    expect(shortReason('Connection terminated due to connection timeout')).toBe('no answer in time');
    expect(shortReason('the database system is starting up')).toBe('the database system is starting up');
  });

  it('a replication reading that failed is a note, and nothing is compared with it', () => {
    const failed: ReplicationRead = { member: 'pg1', error: 'timeout expired' };
    const s = summarize(SUBJECT, facts({ direct: [live('pg1', 5433, { role: 'primary', timeline: 1, lsn: '0/3000000' })], replication: [failed] }));
    expect(s.notes).toContain("pg1's replication could not be read: timeout expired");
    expect(renderStatus(s)).toContain("pg1's replication (live): timeout expired");
  });
});
