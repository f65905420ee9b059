import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../../src/testing/postgres-server.js';
import { Harness, startDaemon, withTimeout } from './helpers.js';

const h = new Harness();
let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  await h.cleanup();
});

const yaml = `name: pg-store
store: { postgres: "\${env:BULWARK_STORE_URL}" }
services:
  api:
    endpoints:
      - { url: "http://127.0.0.1:9", name: a }
      - { url: "http://127.0.0.1:10", name: b }
    health_check: { interval: 200ms, timeout: 100ms, fall: 1, rise: 1 }
`;

describe('bulwark up with store.postgres', () => {
  it('migrates the PostgreSQL store, keeps tokens and probe history there, and never logs its password', async () => {
    const url = await server.createDatabase();
    const password = decodeURIComponent(new URL(url).password);
    const env = { BULWARK_STORE_URL: url };
    const daemon = await startDaemon(h, { yaml, env });

    const created = await h.run(['token', 'create', '--name', 'pg', '-c', daemon.configFile, '--data-dir', daemon.dataDir], env);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    const res = await fetch(`${daemon.base}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const tokens = await client.query('SELECT name FROM api_tokens');
      expect(tokens.rows.map((r: { name: string }) => r.name)).toEqual(['pg']);
      await expect.poll(async () => Number((await client.query('SELECT count(*) AS n FROM state_changes')).rows[0].n), { timeout: 10_000 }).toBeGreaterThan(0);
    } finally {
      await client.end();
    }

    daemon.proc.child.kill('SIGTERM');
    expect((await withTimeout(daemon.proc.exited, 15_000, 'daemon exit')).code).toBe(0);
    for (const output of [daemon.proc.stderr(), daemon.proc.stdout(), created.stderr]) expect(output).not.toContain(password);
  });

  it('refuses to start, naming the store without its password, when PostgreSQL is unreachable', async () => {
    const url = new URL(await server.createDatabase());
    url.port = '1';
    const password = decodeURIComponent(url.password);
    const run = await h.run(['up', '-c', await writeConfig(), '--data-dir', await h.tempDir(), '--listen', '127.0.0.1:0'], { BULWARK_STORE_URL: url.toString() });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/STORE_UNAVAILABLE|cannot connect|unreachable|ECONNREFUSED/i);
    expect(run.stderr).not.toContain(password);
  });
});

async function writeConfig(): Promise<string> {
  const { writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const file = join(await h.tempDir(), 'bulwark.yaml');
  await writeFile(file, yaml);
  return file;
}
