import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../load.js';
import { redactConfig } from '../redact.js';
import { byRule, lintYaml } from './testing.js';

const ETCD = 'coordination:\n  etcd: { endpoints: [http://127.0.0.1:2379] }\n';

/** A postgres database `db`; `extra` lines go under `postgres:` (6 spaces). */
function pg(members: string, extra = '', head = ETCD): string {
  return `${head}databases:
  db:
    postgres:
      members:
${members}${extra}`;
}

const THREE = `        - { name: a, port: 5432 }
        - { name: b, port: 5433 }
        - { name: c, port: 5434 }
`;

const LOCAL = `        - { name: a, port: 5432, data_dir: /var/lib/bulwark/a, health_port: 8008 }
        - { name: b, port: 5433, data_dir: /var/lib/bulwark/b, health_port: 8009 }
`;

describe('lint.postgres_root_without_run_as', () => {
  const secret = '      superuser_password: secret\n';
  const rule = (yaml: string, root?: boolean) =>
    byRule(parseConfigText(yaml, 'test.yaml', { env: {}, lintFacts: root === undefined ? {} : { root } }).findings, 'lint.postgres_root_without_run_as');

  it('as root, local members without run_as are the error db init gives, with its fix', () => {
    expect(rule(pg(LOCAL, secret), true)).toEqual([expect.objectContaining({
      severity: 'error',
      path: ['databases', 'db', 'postgres', 'run_as'],
      message: expect.stringContaining('PostgreSQL refuses to run as root, and no run_as user is configured'),
      hint: 'set databases.db.postgres.run_as to the user that owns the data directories (e.g. postgres), or run bulwark as that user',
    })]);
  });

  it('is quiet with run_as, without local members, not as root, or when nobody said', () => {
    expect(rule(pg(LOCAL, secret + '      run_as: postgres\n'), true)).toEqual([]);
    expect(rule(pg(THREE), true)).toEqual([]);
    expect(rule(pg(LOCAL, secret), false)).toEqual([]);
    expect(rule(pg(LOCAL, secret))).toEqual([]);
  });
});

describe('postgres failover settings', () => {
  it('accepts a fully specified local cluster with no postgres finding', () => {
    const yaml = pg(LOCAL, `      superuser_password: secret
      bin_dir: /usr/lib/postgresql/16/bin
      run_as: postgres
      socket_dir: /run/bulwark
      listen: 127.0.0.1:6432
      settings: { shared_buffers: 256MB, max_connections: 200, log_connections: true }
`);
    const loaded = parseConfigText(yaml, 'test.yaml', { env: {} });
    expect(loaded.findings.filter((f) => f.severity === 'error')).toEqual([]);
    const postgres = loaded.config?.databases.db?.postgres;
    expect(postgres?.members[0]).toMatchObject({ health_port: 8008, data_dir: '/var/lib/bulwark/a' });
    expect(postgres?.settings).toEqual({ shared_buffers: '256MB', max_connections: '200', log_connections: 'true' });
    expect(postgres).toMatchObject({ bin_dir: '/usr/lib/postgresql/16/bin', run_as: 'postgres', socket_dir: '/run/bulwark', listen: '127.0.0.1:6432' });
  });

  it('never shows the superuser password: a reference stays a reference, an inline value is redacted', () => {
    const fromEnv = parseConfigText(pg(LOCAL, '      superuser_password: "${env:PG_PW}"\n'), 'test.yaml', { env: { PG_PW: 'hunter2-secret' } });
    expect(fromEnv.config?.databases.db?.postgres?.superuser_password).toBe('hunter2-secret');
    const shown = JSON.stringify(redactConfig(fromEnv.config, fromEnv.secrets));
    expect(shown).toContain('"superuser_password":"${env:PG_PW}"');
    expect(shown).not.toContain('hunter2-secret');
    const inline = parseConfigText(pg(LOCAL, '      superuser_password: inline-secret\n'), 'test.yaml', { env: {} });
    expect(JSON.stringify(redactConfig(inline.config, inline.secrets))).not.toContain('inline-secret');
  });

  it('refuses settings that bulwark sets itself', () => {
    const loaded = parseConfigText(pg(THREE, '      settings: { port: 6000 }\n'), 'test.yaml', { env: {} });
    expect(loaded.config).toBeUndefined();
    expect(loaded.findings[0]?.message).toBe("port is set by bulwark on every member (from the member's port, socket_dir and the HA loop); remove it from settings");
    expect(loaded.findings[0]?.path).toEqual(['databases', 'db', 'postgres', 'settings', 'port']);
  });

  it('says what a settings key must look like', () => {
    const loaded = parseConfigText(pg(THREE, '      settings: { shared-buffers: 1GB }\n'), 'test.yaml', { env: {} });
    expect(loaded.findings[0]?.message).toBe('invalid key: expected a postgresql.conf parameter name such as shared_buffers');
  });

  it('takes health_port on postgres members only', () => {
    const loaded = parseConfigText('databases:\n  c:\n    redis: { members: [{ name: r, port: 6379, health_port: 8008 }] }\n', 'test.yaml', { env: {} });
    expect(loaded.findings[0]?.message).toContain('unknown key "health_port"');
  });

  it('refuses a ttl below 2s', () => {
    const [f] = byRule(lintYaml(pg(THREE, '      ttl: 1s\n      loop_wait: 100ms\n      retry_timeout: 100ms\n')), 'lint.postgres_ttl_too_short');
    expect(f).toMatchObject({ severity: 'error', path: ['databases', 'db', 'postgres', 'ttl'], expected: 'at least 2s' });
    expect(f?.message).toBe('ttl 1s is below 2s: etcd counts leases in whole seconds and checks expiry every 500ms, so a shorter lease expires unpredictably');
  });

  it('refuses a ttl that is not whole seconds', () => {
    const [f] = byRule(lintYaml(pg(THREE, '      ttl: 12500ms\n')), 'lint.postgres_ttl_whole_seconds');
    expect(f?.message).toBe('ttl 12s500ms is not a whole number of seconds: etcd leases are granted in seconds');
    expect(f?.hint).toBe('use 13s');
  });

  it('refuses a loop_wait below 100ms', () => {
    const [f] = byRule(lintYaml(pg(THREE, '      loop_wait: 50ms\n')), 'lint.postgres_loop_wait_too_short');
    expect(f).toMatchObject({ severity: 'error', path: ['databases', 'db', 'postgres', 'loop_wait'] });
    expect(f?.message).toBe('loop_wait 50ms is below 100ms: every member would query etcd and PostgreSQL in a busy loop');
  });

  it('refuses a retry_timeout below 100ms', () => {
    const [f] = byRule(lintYaml(pg(THREE, '      retry_timeout: 0\n')), 'lint.postgres_retry_timeout_too_short');
    expect(f?.message).toContain('retry_timeout 0s is below 100ms');
  });

  it('refuses as many synchronous standbys as members', () => {
    const two = '        - { name: a, port: 5432 }\n        - { name: b, port: 5433 }\n';
    const [f] = byRule(lintYaml(pg(two, '      synchronous: { standbys: 2 }\n')), 'lint.postgres_sync_standbys');
    expect(f).toMatchObject({ severity: 'error', path: ['databases', 'db', 'postgres', 'synchronous', 'standbys'] });
    expect(f?.message).toBe('synchronous replication with 2 standby(s) needs at least 3 members with replication: synchronous (the primary and 2 standby(s)); this database has 2');
    expect(f?.hint).toBe('lower standbys to 1 or add synchronous members');
    const [single] = byRule(lintYaml(pg('        - { name: a, port: 5432 }\n', '      synchronous: true\n')), 'lint.postgres_sync_standbys');
    expect(single?.path).toEqual(['databases', 'db', 'postgres', 'synchronous']);
    expect(single?.hint).toBe('add a synchronous replica member, or set synchronous: false');
    expect(byRule(lintYaml(pg(two, '      synchronous: true\n')), 'lint.postgres_sync_standbys')).toEqual([]);
  });

  it('takes two synchronous standbys of three synchronous members, and counts asynchronous members out', () => {
    expect(byRule(lintYaml(pg(THREE, '      synchronous: { standbys: 2, method: first }\n')), 'lint.postgres_sync_standbys')).toEqual([]);
    const oneAsync = THREE.replace('port: 5434 }', 'port: 5434, replication: asynchronous }');
    const [f] = byRule(lintYaml(pg(oneAsync, '      synchronous: { standbys: 2 }\n')), 'lint.postgres_sync_standbys');
    expect(f?.found).toBe('standbys 2, synchronous members 2');
  });

  it('refuses a member name used twice in one database', () => {
    const members = '        - { name: a, port: 5432 }\n        - { name: a, port: 5433 }\n';
    const [f] = byRule(lintYaml(pg(members)), 'lint.duplicate_member_name');
    expect(f).toMatchObject({ severity: 'error', path: ['databases', 'db', 'postgres', 'members', 1, 'name'] });
    expect(f?.message).toBe('member name "a" is used twice (members[0] and members[1]): names key the etcd records, replication slots and synchronous standbys');
  });

  it('refuses a host:port used twice, across databases and health ports', () => {
    const members = '        - { name: a, port: 5432 }\n        - { name: b, host: 127.0.0.1, port: 5432 }\n';
    const [f] = byRule(lintYaml(pg(members)), 'lint.duplicate_address');
    expect(f).toMatchObject({ severity: 'error', path: ['databases', 'db', 'postgres', 'members', 1, 'port'] });
    expect(f?.message).toBe('127.0.0.1:5432 is used by both db.a and db.b: two servers cannot listen on one address');

    const health = '        - { name: a, port: 5432, health_port: 6379 }\n        - { name: b, port: 5433 }\n';
    const cache = '  cache:\n    redis: { members: [{ name: r, port: 6379 }] }\n';
    const [g] = byRule(lintYaml(pg(health) + cache), 'lint.duplicate_address');
    expect(g?.message).toBe('127.0.0.1:6379 is used by both db.a health_port and cache.r: two servers cannot listen on one address');
    const otherHost = '        - { name: a, port: 5432 }\n        - { name: b, host: 10.0.0.2, port: 5432 }\n';
    expect(byRule(lintYaml(pg(otherHost)), 'lint.duplicate_address')).toEqual([]);
  });

  it('warns that local members without etcd get no automatic failover', () => {
    const [f] = byRule(lintYaml(pg(LOCAL, '', '')), 'lint.postgres_without_etcd');
    expect(f).toMatchObject({ severity: 'warning', path: ['databases', 'db', 'postgres', 'members', 0, 'data_dir'] });
    expect(f?.message).toBe('db has members with data_dir (run on this host), but coordination.etcd is not set: ' +
      'without etcd only manual switchover is available; automatic failover is off');
    expect(byRule(lintYaml(pg(THREE, '', '')), 'lint.postgres_without_etcd')).toEqual([]);
  });

  it('refuses local members without a superuser password', () => {
    const [f] = byRule(lintYaml(pg(LOCAL)), 'lint.postgres_password_missing');
    expect(f).toMatchObject({ severity: 'error', path: ['databases', 'db', 'postgres', 'superuser_password'] });
    expect(f?.message).toBe('db has members with data_dir (run on this host): bulwark connects to them and replicates between them as superuser "postgres", which needs superuser_password');
  });
});
