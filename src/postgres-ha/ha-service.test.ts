import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../testing/net.js';
import { configFrom, fakeService } from '../testing/fake-ha.js';
import type { HistoryEntry } from './keys.js';

const ETCD = 'coordination:\n  etcd: { endpoints: [http://10.9.9.9:2379], prefix: /acme, username: u, password: p }\n';

function yaml(members: string, extra = '', head = ETCD): string {
  return `${head}databases:
  main:
    postgres:
      members:
${members}      superuser: admin
      superuser_password: pw
${extra}  cache:
    redis: { members: [{ name: r1, port: 6379 }] }
`;
}

const TWO_LOCAL = `        - { name: a, port: 5432, data_dir: /srv/a }
        - { name: b, port: 5433, data_dir: /srv/b }
        - { name: c, host: 10.0.0.3, port: 5432 }
`;

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function started(text: string) {
  const f = fakeService(configFrom(text));
  stops.push(() => f.service.stop(AbortSignal.timeout(5000)));
  return f;
}

describe('DatabaseHaService', () => {
  it('runs a manager per local member, with the configured settings, peers and one shared etcd client', async () => {
    const f = started(yaml(TWO_LOCAL, '      synchronous: { strict: true }\n      ttl: 20s\n      loop_wait: 1s\n      retry_timeout: 4s\n'));
    await f.service.start();
    expect(f.managers.map((m) => [m.options.pg.name, m.calls])).toEqual([['a', ['start']], ['b', ['start']]]);
    expect(f.etcds).toHaveLength(1);
    expect(f.etcds[0]?.options).toEqual({ endpoints: ['http://10.9.9.9:2379'], username: 'u', password: 'p' });
    const a = f.manager('a').options;
    expect(a).toMatchObject({
      database: 'main', prefix: '/acme', ttlSeconds: 20, loopWaitMs: 1000, requestTimeoutMs: 4000, synchronousMode: true,
      synchronousModeStrict: true, maximumLagOnFailover: 1_048_576n, usePgRewind: true,
    });
    expect(a.peers.map((p) => [p.name, p.endpoint])).toEqual([
      ['b', { host: '127.0.0.1', port: 5433, user: 'admin', password: 'pw' }],
      ['c', { host: '10.0.0.3', port: 5432, user: 'admin', password: 'pw' }],
    ]);
    expect(a.pg.endpoint).toEqual({ host: '127.0.0.1', port: 5432, user: 'admin', password: 'pw' });
    expect(a.etcd).toBe(f.manager('b').options.etcd);

    await f.service.stop(AbortSignal.timeout(5000));
    expect(f.managers.every((m) => m.calls.at(-1) === 'stop')).toBe(true);
    expect(f.etcds[0]?.etcd.closed).toBe(true);
    await f.service.stop(AbortSignal.timeout(5000));
  });

  it('without etcd starts nothing and says once that automatic failover is off', async () => {
    const f = started(yaml(TWO_LOCAL, '', ''));
    await f.service.start();
    await f.service.reload(configFrom(yaml(TWO_LOCAL, '      ttl: 30s\n', '')));
    expect(f.managers).toEqual([]);
    const warnings = f.logger.lines.filter((l) => String(l.msg).startsWith('automatic failover is off'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ database: 'main', members: ['a', 'b'] });
    expect(warnings[0]?.msg).toContain('coordination.etcd is not set');
  });

  it('turns manager events into bus events, stored events and failover metrics', async () => {
    const f = started(yaml(TWO_LOCAL));
    await f.service.start();
    const a = f.manager('a');
    const entry: HistoryEntry = { kind: 'failover', from: 'c', to: 'a', timeline: 3, at: '2026-01-01T00:00:00.000Z', durationMs: 1250 };
    a.emit('fenced', { reason: 'leader key lost', at: 1 });
    a.emit('rejoined', { method: 'pg_rewind', durationMs: 900, detail: 'rewound' });
    a.emit('promoted', { at: 2 });
    a.emit('history', entry);
    expect(f.published.map((p) => p.event)).toEqual(['database.fenced', 'database.rejoined', 'database.promoted', 'database.failover']);
    expect(f.published[0]?.payload).toMatchObject({ database: 'main', member: 'a', reason: 'leader key lost', at: expect.any(Number) });
    expect(f.published[3]?.payload).toMatchObject({ database: 'main', member: 'a', entry });
    await new Promise((r) => setImmediate(r));
    expect(f.stored.map((e) => [e.subsystem, e.kind, e.subject])).toEqual([
      ['postgres-ha', 'member.fenced', 'main/a'], ['postgres-ha', 'member.rejoined', 'main/a'],
      ['postgres-ha', 'member.promoted', 'main/a'], ['postgres-ha', 'failover', 'main/a'],
    ]);

    a.current = { ...a.current, role: 'primary', leader: true, lagBytes: undefined };
    f.manager('b').current = { ...f.manager('b').current, fenced: true, role: 'stopped', lagBytes: undefined };
    const text = await f.registry.metrics();
    expect(text).toContain('bulwark_db_member_role{database="main",member="a",role="primary"} 1');
    expect(text).toContain('bulwark_db_member_role{database="main",member="a",role="replica"} 0');
    expect(text).toContain('bulwark_db_member_role{database="main",member="b",role="stopped"} 1');
    expect(text).toContain('bulwark_db_member_leader{database="main",member="a"} 1');
    expect(text).toContain('bulwark_db_member_fenced{database="main",member="b"} 1');
    expect(text).not.toContain('bulwark_db_member_lag_bytes{database="main",member="a"}');
    expect(text).toContain('bulwark_db_failovers_total{database="main",kind="failover"} 1');
    expect(text).toContain('bulwark_db_last_failover_duration_seconds{database="main"} 1.25');

    // A stopped member's listeners are gone with it.
    await f.service.reload(configFrom(yaml('        - { name: b, port: 5433, data_dir: /srv/b }\n        - { name: c, host: 10.0.0.3, port: 5432 }\n')));
    a.emit('promoted', { at: 3 });
    expect(f.published).toHaveLength(4);
    expect(await f.registry.metrics()).not.toContain('member="a"');
  });

  it('reload: reconfigures changed settings and the member list, starts added members, stops removed ones', async () => {
    const f = started(yaml(TWO_LOCAL));
    await f.service.start();
    const next = `        - { name: a, port: 5432, data_dir: /srv/a }
        - { name: c, host: 10.0.0.3, port: 5432 }
        - { name: d, port: 5435, data_dir: /srv/d }
`;
    await f.service.reload(configFrom(yaml(next, '      synchronous: true\n      ttl: 30s\n      maximum_lag_on_failover: 2MiB\n')));
    expect(f.manager('a').reconfigured[0]).toEqual({ synchronousMode: true, ttlSeconds: 30, maximumLagOnFailover: 2_097_152n });
    expect(f.manager('a').reconfigured[1]?.peers?.map((p) => p.name)).toEqual(['c', 'd']);
    expect(f.manager('b').calls).toEqual(['start', 'stop']);
    expect(f.manager('d').calls).toEqual(['start']);
    expect(f.manager('d').options.peers.map((p) => p.name)).toEqual(['a', 'c']);
    expect(f.logger.lines.find((l) => l.member === 'a' && String(l.msg).startsWith('these changes take effect when bulwark restarts'))).toBeUndefined();

    // Unchanged settings and members: nothing to reconfigure.
    await f.service.reload(configFrom(yaml(next, '      synchronous: true\n      ttl: 30s\n      maximum_lag_on_failover: 2MiB\n')));
    expect(f.manager('a').reconfigured).toHaveLength(2);
  });

  it('reload: new etcd settings restart every manager against a new client', async () => {
    const f = started(yaml(TWO_LOCAL));
    await f.service.start();
    await f.service.reload(configFrom(yaml(TWO_LOCAL, '', 'coordination:\n  etcd: { endpoints: [http://10.9.9.8:2379] }\n')));
    expect(f.etcds).toHaveLength(2);
    expect(f.etcds[0]?.etcd.closed).toBe(true);
    expect(f.managers.map((m) => [m.options.pg.name, m.options.prefix, m.calls])).toEqual([
      ['a', '/acme', ['start', 'stop']], ['b', '/acme', ['start', 'stop']], ['a', '/bulwark', ['start']], ['b', '/bulwark', ['start']],
    ]);
    await f.service.reload(configFrom(yaml(TWO_LOCAL, '', '')));
    expect(f.managers.every((m) => m.calls.at(-1) === 'stop')).toBe(true);
    expect(f.etcds[1]?.etcd.closed).toBe(true);
  });

  it('serves the health endpoints of members with health_port, and moves them when the port changes', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const members = (port: number) => `        - { name: a, port: 5432, data_dir: /srv/a, health_port: ${port} }\n        - { name: b, port: 5433 }\n`;
    const f = started(yaml(members(p1)));
    await f.service.start();
    f.manager('a').current = { ...f.manager('a').current, role: 'primary', leader: true };
    const get = async (port: number, path: string) => {
      const res = await request(`http://127.0.0.1:${port}${path}`);
      await res.body.text();
      return res.statusCode;
    };
    expect(await get(p1, '/primary')).toBe(200);
    expect(await get(p1, '/replica')).toBe(503);
    await f.service.reload(configFrom(yaml(members(p2))));
    expect(await get(p2, '/primary')).toBe(200);
    await expect(get(p1, '/primary')).rejects.toThrow();
  });

  it('refuses to start when a health port is taken, and leaves nothing running', async () => {
    const taken = await freePort();
    const f1 = started(yaml(`        - { name: a, port: 5432, data_dir: /srv/a, health_port: ${taken} }\n        - { name: b, port: 5433 }\n`));
    await f1.service.start();
    const f2 = started(yaml(`        - { name: z, port: 5440, data_dir: /srv/z }\n        - { name: a, port: 5432, data_dir: /srv/a, health_port: ${taken} }\n`));
    await expect(f2.service.start()).rejects.toThrow(`health endpoint of a cannot listen on 127.0.0.1:${taken}`);
    expect(f2.manager('z').calls).toEqual(['start', 'stop']);
    expect(f2.etcds[0]?.etcd.closed).toBe(true);
  });
});

describe('DatabaseHaService views (for the API)', () => {
  it('merges local snapshots with what etcd holds: leader, sync set, records, history newest first', async () => {
    const f = started(yaml(TWO_LOCAL));
    await f.service.start();
    const keys = f.etcds[0]!.etcd.keys;
    keys.set('/acme/db/main/leader', 'c');
    keys.set('/acme/db/main/sync', JSON.stringify({ leader: 'c', members: ['a'] }));
    keys.set('/acme/db/main/members/c', JSON.stringify({ role: 'primary', timeline: 3, lsn: '0/5000000', fenced: false, host: '10.0.0.3', port: 5432, state: 'primary holding the leader lease' }));
    keys.set('/acme/db/main/history', JSON.stringify([
      { kind: 'failover', from: 'a', to: 'c', timeline: 2, at: '2026-01-01T00:00:00Z', durationMs: 900 },
      { kind: 'switchover', from: 'c', to: 'c', timeline: 3, at: '2026-01-02T00:00:00Z', durationMs: 300 },
    ]));
    const view = await f.service.database('main');
    expect(view).toMatchObject({
      name: 'main', kind: 'postgres', failover: 'automatic', managed_here: true, leader: 'c', sync: { leader: 'c', members: ['a'] },
      history: [{ kind: 'switchover', duration_ms: 300 }, { kind: 'failover', from: 'a', to: 'c', timeline: 2, duration_ms: 900 }],
    });
    expect(view?.members.map((m) => [m.name, m.local, m.snapshot?.role ?? null, m.record?.role ?? null])).toEqual([
      ['a', true, 'replica', null], ['b', true, 'replica', null], ['c', false, null, 'primary'],
    ]);
    expect(view?.etcd_error).toBeUndefined();
    expect((await f.service.databases()).map((d) => d.name)).toEqual(['main']);
    expect(await f.service.database('cache')).toBeUndefined();

    f.etcds[0]!.etcd.failing = new Error('etcd unreachable: connect ECONNREFUSED');
    const degraded = await f.service.database('main');
    expect(degraded).toMatchObject({ leader: null, sync: null, history: [], etcd_error: 'etcd unreachable: connect ECONNREFUSED' });
    expect(degraded?.members[0]?.snapshot?.role).toBe('replica');
  });

  it('shows databases this daemon does not run, with failover off without etcd', async () => {
    const f = started(yaml('        - { name: a, port: 5432 }\n        - { name: b, port: 5433 }\n', '', ''));
    await f.service.start();
    expect(await f.service.database('main')).toMatchObject({ failover: 'off', managed_here: false, leader: null, members: [{ name: 'a', local: false, snapshot: null, record: null }, { name: 'b' }] });
  });
});
