import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../config/index.js';
import { poolerLine } from '../../cli/commands/status.js';
import { sumPools, type PoolRow } from './admin-console.js';
import { renderAuthFile, renderIni } from './pgbouncer-files.js';

const YAML = (pooler: string) => `
databases:
  main-db:
    postgres:
      superuser_password: pw
      members: [{ name: m1, port: 5432 }, { name: m2, port: 5433 }]
${pooler}`;

describe('postgres.pooler', () => {
  it("takes the seed's keys and fills the rest with PgBouncer's defaults", () => {
    const { config, findings } = parseConfigText(YAML('      pooler: { pool_mode: transaction, max_client_conn: 1000, default_pool_size: 25 }\n'), 't.yaml', { env: {} });
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(config?.databases['main-db']?.postgres?.pooler).toEqual({
      listen: '127.0.0.1:6432', pool_mode: 'transaction', max_client_conn: 1000, default_pool_size: 25, pause_timeout: 10_000,
    });
  });

  it('refuses an unknown pool mode and a misspelt key with the accepted values', () => {
    const bad = parseConfigText(YAML('      pooler: { pool_mode: transactions, max_clients: 5 }\n'), 't.yaml', { env: {} });
    const text = bad.findings.map((f) => `${f.path.join('.')}: ${f.message} ${f.expected ?? ''} ${f.hint ?? ''}`).join('\n');
    expect(text).toMatch(/pooler\.pool_mode/);
    expect(text).toMatch(/transaction/);
    expect(text).toMatch(/max_clients/);
  });

  it('check says a pooler needs the superuser\'s password', () => {
    const yaml = `
databases:
  main-db:
    postgres:
      members: [{ name: m1, port: 5432 }]
      pooler: { pool_mode: transaction }
`;
    const finding = parseConfigText(yaml, 't.yaml', { env: {} }).findings.find((f) => f.rule === 'lint.pooler_password_missing');
    expect(finding).toMatchObject({ severity: 'error', path: ['databases', 'main-db', 'postgres', 'superuser_password'] });
    expect(finding?.hint).toMatch(/superuser_password/);
  });

  it('renders pgbouncer.ini pointed at the primary, and an auth file with quotes doubled', () => {
    const files = { dir: '/d', ini: '/d/pgbouncer.ini', authFile: '/d/users.txt' };
    const ini = renderIni({ listen: '0.0.0.0:6432', pool_mode: 'transaction', max_client_conn: 1000, default_pool_size: 25, pause_timeout: 10_000 }, { host: '10.0.0.2', port: 5433 }, files, 'postgres');
    expect(ini).toContain('* = host=10.0.0.2 port=5433');
    expect(ini).toMatch(/listen_addr = 0\.0\.0\.0\nlisten_port = 6432/);
    expect(ini).toContain('auth_user = postgres');
    expect(ini).toContain('pool_mode = transaction\nmax_client_conn = 1000\ndefault_pool_size = 25');
    expect(() => renderIni({ listen: '127.0.0.1:6432', pool_mode: 'session', max_client_conn: 1, default_pool_size: 1, pause_timeout: 1 }, { host: 'h', port: 1 }, files, 'x y')).toThrow(/auth_user/);
    expect(renderAuthFile({ superuser: 'postgres', superuserPassword: 'a"b', adminPassword: 'z' })).toBe('"postgres" "a""b"\n"bulwark_pooler_admin" "z"\n');
  });

  it('sums SHOW POOLS over the pools, leaving out the admin console', () => {
    const row = (database: string, n: number): PoolRow => ({ database, user: 'u', cl_active: `${n}`, cl_waiting: `${n + 1}`, sv_active: `${n}`, sv_idle: '1', maxwait: '2', maxwait_us: '500000' });
    expect(sumPools([row('app', 3), row('other', 1), row('pgbouncer', 99)])).toEqual({ clientsActive: 4, clientsWaiting: 6, serversActive: 4, serversIdle: 2, maxWaitSeconds: 2.5 });
  });

  it('shows a pooler in bulwark status', () => {
    expect(poolerLine({ database: 'main-db', listen: '127.0.0.1:6432', upstream: 'm2', repoints: 1, lastPauseMs: 812.4,
      pools: { clientsActive: 12, clientsWaiting: 0, serversActive: 5, serversIdle: 20, maxWaitSeconds: 0 } }))
      .toBe('  main-db on 127.0.0.1:6432 -> m2, serving; clients 12 active 0 waiting; servers 5 active 20 idle; max wait 0.0 s; re-pointed 1 (last pause 812 ms)');
    expect(poolerLine({ database: 'd', listen: 'l', paused: 'switchover', repoints: 0, poolsError: 'timeout' })).toBe('  d on l -> no primary, PAUSED (switchover); pools unreadable (timeout); re-pointed 0');
  });
});
