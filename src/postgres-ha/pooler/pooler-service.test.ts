/**
 * PoolerService as the daemon builds it, from a parsed bulwark.yaml: a real
 * PostgreSQL, no etcd (the tracker scans the members), the Debian pgbouncer.
 */
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import pg from 'pg';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../config/index.js';
import { memoryLogger } from '../../testing/memory-logger.js';
import { freePort } from '../../testing/net.js';
import { startPostgres, type PostgresServer } from '../../testing/postgres-server.js';
import { runAsUser } from '../../testing/run-as.js';
import { PoolerService } from './pooler-service.js';

const execFileAsync = promisify(execFile);
let server: PostgresServer | undefined;
let service: PoolerService | undefined;
const logger = memoryLogger();

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(async () => {
  await service?.stop(AbortSignal.timeout(10_000));
  await server?.stop();
});

describe('PoolerService', () => {
  it('runs PgBouncer from bulwark.yaml, pointed at the primary, with private files, gauges and no secret in the log', async () => {
    const url = new URL(server!.url);
    const password = decodeURIComponent(url.password);
    const runAs = await runAsUser();
    const runAsName = runAs ? (await execFileAsync('id', ['-un', String(runAs.uid)])).stdout.trim() : undefined;
    const port = await freePort();
    const yaml = `
databases:
  main-db:
    postgres:
      superuser: bulwark
      superuser_password: ${JSON.stringify(password)}
${runAsName ? `      run_as: ${runAsName}\n` : ''}      members: [{ name: m1, host: 127.0.0.1, port: ${url.port} }]
      pooler: { listen: "127.0.0.1:${port}", pool_mode: transaction, max_client_conn: 1000, default_pool_size: 25 }
`;
    const loaded = parseConfigText(yaml, 't.yaml', { env: {} });
    expect(loaded.findings.filter((f) => f.severity === 'error')).toEqual([]);
    const ours = async (): Promise<string[]> => (await readdir(tmpdir())).filter((d) => d.startsWith('bulwark-pgbouncer-main-db-'));
    const before = await ours();
    const registry = new Registry();
    service = new PoolerService({ config: loaded.config!, registry, log: logger.log });
    await service.start();

    const client = new pg.Client({ host: '127.0.0.1', port, user: 'bulwark', password, database: url.pathname.slice(1) });
    await client.connect();
    const { rows } = await client.query<{ p: number }>('SELECT inet_server_port() AS p');
    expect(rows[0]?.p).toBe(Number(url.port));

    const [status] = await service.statuses();
    expect(status).toMatchObject({ database: 'main-db', upstream: 'm1', paused: undefined, pools: { clientsActive: 1 } });
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/bulwark_pooler_clients_active\{database="main-db"\} 1/);
    expect(metrics).toMatch(/bulwark_pooler_servers_idle\{database="main-db"\} \d/);
    await client.end();

    const dirs = (await ours()).filter((d) => !before.includes(d));
    expect(dirs).toHaveLength(1);
    for (const d of dirs) {
      const dir = `${tmpdir()}/${d}`;
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      for (const f of await readdir(dir)) expect((await stat(`${dir}/${f}`)).mode & 0o777).toBe(0o600);
    }
    expect(JSON.stringify(logger.lines)).not.toContain(password);

    await service.stop(AbortSignal.timeout(10_000));
    service = undefined;
    expect((await readdir(tmpdir())).filter((d) => dirs.includes(d))).toEqual([]);
  });
});
