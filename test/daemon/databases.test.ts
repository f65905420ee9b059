import { afterEach, describe, expect, it } from 'vitest';
import { configYaml, createToken, freePort, Harness, logLines, startDaemon } from './helpers.js';

const h = new Harness();
afterEach(() => h.cleanup());

const databases = (healthPort: number): string => `databases:
  main-db:
    postgres:
      members:
        - { name: a, port: 25432, data_dir: /nonexistent/a, health_port: ${healthPort} }
        - { name: b, host: 10.0.0.2, port: 25432 }
      superuser_password: pw
`;

describe('bulwark up: PostgreSQL databases', () => {
  it('without etcd: says automatic failover is off, starts nothing, and shows the database behind the token', async () => {
    const healthPort = await freePort();
    const d = await startDaemon(h, { yaml: configYaml('test-db', databases(healthPort)) });
    const none = await fetch(`${d.base}/api/v1/databases`);
    expect(none.status).toBe(401);

    const token = await createToken(h, d.dataDir, 'ops');
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const list = await fetch(`${d.base}/api/v1/databases`, auth);
    expect(list.status).toBe(200);
    const body = (await list.json()) as { databases: Array<Record<string, unknown>> };
    expect(body.databases).toEqual([expect.objectContaining({
      name: 'main-db', failover: 'off', managed_here: false, leader: null,
      members: [expect.objectContaining({ name: 'a', local: true, health_port: healthPort, snapshot: null }), expect.objectContaining({ name: 'b', local: false })],
    })]);
    expect((await fetch(`${d.base}/api/v1/databases/main-db`, auth)).status).toBe(200);
    const missing = await fetch(`${d.base}/api/v1/databases/nope`, auth);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { hint: string } }).error.hint).toBe('one of: main-db');

    // The health endpoint is not served: nothing runs the member.
    await expect(fetch(`http://127.0.0.1:${healthPort}/health`)).rejects.toThrow();
    const lines = logLines(d.proc.stderr());
    expect(lines.filter((l) => String(l.msg).startsWith('automatic failover is off'))).toEqual([
      expect.objectContaining({ database: 'main-db', members: ['a'], subsystem: 'postgres-ha' }),
    ]);
    expect(lines.some((l) => l.msg === 'subsystem started' && l.subsystem === 'postgres-ha')).toBe(true);
  });
});
