import { describe, expect, it } from 'vitest';
import { parseConfigText, type BulwarkConfig } from '../config/index.js';
import { LeaderLease, type LeaseStore } from '../coordination/index.js';
import type { HostIdentity } from './member-selection.js';
import { haPlan, haPlans, managerSettings, reconfiguration, restartOnlyChanges, sameEtcd } from './ha-config.js';

function config(postgres: string, head = 'coordination:\n  etcd: { endpoints: [http://10.0.0.1:2379, http://10.0.0.2:2379], prefix: /acme, username: bulwark, password: pw }\n'): BulwarkConfig {
  const loaded = parseConfigText(`${head}databases:
  main:
    postgres:
${postgres}
  cache:
    redis: { members: [{ name: r1, port: 6379 }] }
`, 'test.yaml', { env: {}, lint: false });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.findings));
  return loaded.config;
}

const MEMBERS = `      members:
        - { name: a, port: 5432, data_dir: /srv/a, health_port: 8008 }
        - { name: b, port: 5433, data_dir: /srv/b }
        - { name: c, host: 10.0.0.3, port: 5432 }
      superuser: admin
      superuser_password: s3cret`;

describe('haPlan', () => {
  it('maps the configuration to manager settings, peers and local members', () => {
    const c = config(`${MEMBERS}
      synchronous: { standbys: 1, strict: true, degrade_after: 8s }
      maximum_lag_on_failover: 16MiB
      replication_user: repl
      replication_password: r3pl
      ttl: 20s
      loop_wait: 1s
      retry_timeout: 4s
      use_pg_rewind: false
      bin_dir: /opt/pg/bin
      run_as: postgres
      settings: { shared_buffers: 1GB }`);
    const plan = haPlan('main', c.databases.main!.postgres!, c.coordination);
    expect(plan.settings).toEqual({
      ttlSeconds: 20, loopWaitMs: 1000, requestTimeoutMs: 4000, synchronousMode: true, synchronousModeStrict: true, synchronousDegradeAfterMs: 8000,
      maximumLagOnFailover: 16n * 1024n * 1024n, usePgRewind: false, synchronousQuorum: { method: 'ANY', count: 1 },
    });
    expect(plan).toMatchObject({
      database: 'main', prefix: '/acme', superuser: 'admin', password: 's3cret', replication: { user: 'repl', password: 'r3pl' }, binDir: '/opt/pg/bin', runAs: 'postgres',
      socketDir: '/tmp', pgSettings: { shared_buffers: '1GB' },
      etcd: { endpoints: ['http://10.0.0.1:2379', 'http://10.0.0.2:2379'], prefix: '/acme', username: 'bulwark', password: 'pw' },
    });
    expect(plan.members.map((m) => [m.name, m.endpoint])).toEqual([
      ['a', { host: '127.0.0.1', port: 5432, user: 'admin', password: 's3cret' }],
      ['b', { host: '127.0.0.1', port: 5433, user: 'admin', password: 's3cret' }],
      ['c', { host: '10.0.0.3', port: 5432, user: 'admin', password: 's3cret' }],
    ]);
    expect(plan.local.map((m) => ({ name: m.name, dataDir: m.dataDir, healthPort: m.healthPort, peers: m.peers.map((p) => p.name) }))).toEqual([
      { name: 'a', dataDir: '/srv/a', healthPort: 8008, peers: ['b', 'c'] },
      { name: 'b', dataDir: '/srv/b', healthPort: undefined, peers: ['a', 'c'] },
    ]);
  });

  it('uses the defaults: asynchronous, ttl 10s, loop 2s, retry 3s, pg_rewind on, 1 MiB of lag, prefix /bulwark', () => {
    const plan = haPlan('main', config(MEMBERS, '').databases.main!.postgres!, undefined);
    expect(plan.settings).toEqual({
      ttlSeconds: 10, loopWaitMs: 2000, requestTimeoutMs: 3000, synchronousMode: false, synchronousModeStrict: false, synchronousDegradeAfterMs: 5000,
      maximumLagOnFailover: 1_048_576n, usePgRewind: true, synchronousQuorum: { method: 'ANY', count: 1 },
    });
    expect(plan.etcd).toBeUndefined();
    expect(plan.prefix).toBe('/bulwark');
    expect(managerSettings({ ...config(MEMBERS).databases.main!.postgres!, synchronous: true })).toMatchObject({ synchronousMode: true, synchronousModeStrict: false });
  });

  it('lists only PostgreSQL databases', () => {
    expect(haPlans(config(MEMBERS)).map((p) => p.database)).toEqual(['main']);
  });

  it('tells reconfigurable changes from those that need a restart', () => {
    const before = haPlan('main', config(MEMBERS).databases.main!.postgres!, undefined);
    const after = haPlan('main', config(`${MEMBERS.replace('port: 5433, data_dir: /srv/b', 'port: 5434, data_dir: /srv/b')}
      synchronous: true
      ttl: 30s
      retry_timeout: 5s`).databases.main!.postgres!, undefined);
    expect(reconfiguration(before.settings, after.settings)).toEqual({ ttlSeconds: 30, synchronousMode: true });
    expect(reconfiguration(before.settings, before.settings)).toEqual({});
    expect(restartOnlyChanges(before, after, 'a')).toEqual(['members', 'retry_timeout']);
    expect(restartOnlyChanges(before, after, 'b')).toEqual(['port', 'retry_timeout']);
    expect(restartOnlyChanges(before, after, 'nope')).toEqual([]);
  });

  it('compares etcd settings by value', () => {
    const a = haPlan('main', config(MEMBERS).databases.main!.postgres!, config(MEMBERS).coordination).etcd;
    expect(sameEtcd(a, { ...a!, endpoints: [...a!.endpoints] })).toBe(true);
    expect(sameEtcd(a, { ...a!, password: 'other' })).toBe(false);
    expect(sameEtcd(undefined, undefined)).toBe(true);
    expect(sameEtcd(a, undefined)).toBe(false);
  });
});

describe('members across hosts', () => {
  // The same file on every host: every member has data_dir; each host runs only its own.
  const ACROSS = `      members:
        - { name: a, host: 10.9.0.1, port: 5432, data_dir: /srv/pg }
        - { name: b, host: 10.9.0.2, port: 5432, data_dir: /srv/pg }
        - { name: c, host: 10.9.0.3, port: 5432, data_dir: /srv/pg, replication: asynchronous }
      synchronous: { standbys: 2, method: first }`;
  const host = (addresses: string[], node?: string): HostIdentity => ({ node, addresses: new Set(addresses) });
  const pg = () => config(ACROSS).databases.main!.postgres!;

  it("runs the members on this host's addresses, the others are peers", () => {
    const plan = haPlan('main', pg(), undefined, host(['127.0.0.1', '10.9.0.2', 'db-b']));
    expect(plan.local.map((m) => m.name)).toEqual(['b']);
    expect(plan.local[0]!.peers.map((p) => [p.name, p.endpoint.host, p.asynchronous ?? false])).toEqual([['a', '10.9.0.1', false], ['c', '10.9.0.3', true]]);
    expect(haPlan('main', pg(), undefined, host(['192.168.1.5'])).local).toEqual([]);
  });

  it('--node picks the members by host or by name, whatever the addresses', () => {
    expect(haPlan('main', pg(), undefined, host(['10.9.0.2'], '10.9.0.3')).local.map((m) => m.name)).toEqual(['c']);
    expect(haPlan('main', pg(), undefined, host([], 'a')).local.map((m) => m.name)).toEqual(['a']);
  });

  it('loopback members always run here (one host), and FIRST/ANY n reaches the settings', () => {
    const plan = haPlan('main', config(MEMBERS).databases.main!.postgres!, undefined, host([]));
    expect(plan.local.map((m) => m.name)).toEqual(['a', 'b']);
    expect(haPlan('main', pg(), undefined, host([])).settings.synchronousQuorum).toEqual({ method: 'FIRST', count: 2 });
  });
});

describe('the lint mirrors the LeaderLease timing rule', () => {
  const store = {} as LeaseStore;
  const cases: Array<[ttl: string, loopWait: string, retry: string]> = [
    ['10s', '2s', '3s'], ['9s', '2s', '3s'], ['8s', '2s', '3s'], ['10s', '5s', '3s'], ['13s', '5s', '3s'],
    ['3s', '500ms', '1s'], ['3s', '600ms', '1s'], ['2s', '500ms', '500ms'], ['2s', '600ms', '500ms'], ['30s', '10s', '10s'],
  ];
  it.each(cases)('ttl %s, loop_wait %s, retry_timeout %s', (ttl, loopWait, retry) => {
    const c = config(`${MEMBERS}\n      ttl: ${ttl}\n      loop_wait: ${loopWait}\n      retry_timeout: ${retry}`);
    const lint = parseConfigText(`databases:\n  main:\n    postgres:\n${MEMBERS}\n      ttl: ${ttl}\n      loop_wait: ${loopWait}\n      retry_timeout: ${retry}\n`, 'test.yaml', { env: {} })
      .findings.filter((f) => f.rule === 'lint.leader_lease_unsafe');
    const s = managerSettings(c.databases.main!.postgres!);
    const build = () => new LeaderLease({ store, key: '/k', value: 'a', ttlSeconds: s.ttlSeconds, loopWaitMs: s.loopWaitMs, requestTimeoutMs: s.requestTimeoutMs });
    if (lint.length === 0) expect(build).not.toThrow();
    else expect(build).toThrow(/leader lease timing does not fit/);
  });
});
