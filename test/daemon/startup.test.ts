import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configYaml, freePort, Harness, logLines, SECRET, startDaemon, withTimeout } from './helpers.js';

const h = new Harness();
const servers: Server[] = [];
afterEach(async () => {
  await h.cleanup();
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

async function writeConfig(yaml: string): Promise<{ dir: string; file: string }> {
  const dir = await h.tempDir();
  const file = join(dir, 'bulwark.yaml');
  await writeFile(file, yaml);
  return { dir, file };
}

async function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    // If the port can be bound, nobody is listening on it.
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('bulwark up: refuses to start', () => {
  it('with an invalid config: non-zero exit, findings on stderr, never listens', async () => {
    const { dir, file } = await writeConfig(configYaml('bad', 'bogus_key: 1\n'));
    const port = await freePort();
    const result = await h.run(['up', '-c', file, '--data-dir', join(dir, 'data'), '--listen', `127.0.0.1:${port}`], { TEST_SECRET: SECRET });
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain('bogus_key');
    expect(result.stderr).toMatch(new RegExp(`bulwark\\.yaml:\\d+:\\d+`));
    expect(result.stderr).not.toContain('API listening');
    expect(result.stderr).not.toContain(SECRET);
    expect(await refused(port)).toBe(true);
  });

  it('with a YAML syntax error: non-zero exit with the location', async () => {
    const { dir, file } = await writeConfig('name: [unclosed\n');
    const result = await h.run(['up', '-c', file, '--data-dir', join(dir, 'data'), '--listen', `127.0.0.1:${await freePort()}`]);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toMatch(/bulwark\.yaml:\d+:\d+/);
  });

  it('with a missing config file: exit 2 naming the file', async () => {
    const dir = await h.tempDir();
    const result = await h.run(['up', '-c', join(dir, 'nope.yaml'), '--data-dir', join(dir, 'data')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('nope.yaml');
  });

  it('with a secret env var missing: non-zero exit naming the variable, no value printed', async () => {
    const { dir, file } = await writeConfig(configYaml());
    const env: NodeJS.ProcessEnv = { OTHER_SECRET: SECRET };
    const result = await h.run(['up', '-c', file, '--data-dir', join(dir, 'data'), '--listen', `127.0.0.1:${await freePort()}`], { ...env, TEST_SECRET: '' });
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain('TEST_SECRET');
    expect(result.stderr).not.toContain(SECRET);
    expect(result.stdout).not.toContain(SECRET);
  });

  it('on a port already in use: exit 1 with "already in use", naming --listen', async () => {
    const blocker = createServer();
    servers.push(blocker);
    const port = await new Promise<number>((resolve) => {
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port));
    });
    const { dir, file } = await writeConfig(configYaml());
    const result = await h.run(['up', '-c', file, '--data-dir', join(dir, 'data'), '--listen', `127.0.0.1:${port}`], { TEST_SECRET: SECRET });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`the API cannot listen on 127.0.0.1:${port} (--listen): the address is already in use`);
    expect(result.stderr).toContain('hint: another bulwark up is probably running with this configuration; stop it, or change --listen');
  });

  it('with a bad --drain-timeout or --listen: exit 2', async () => {
    const { dir, file } = await writeConfig(configYaml());
    const drain = await h.run(['up', '-c', file, '--data-dir', join(dir, 'data'), '--drain-timeout', 'soon'], { TEST_SECRET: SECRET });
    expect(drain.code).toBe(2);
    expect(drain.stderr).toContain('--drain-timeout');
    const listen = await h.run(['up', '-c', file, '--data-dir', join(dir, 'data'), '--listen', 'nonsense'], { TEST_SECRET: SECRET });
    expect(listen.code).toBe(2);
    expect(listen.stderr).toContain('nonsense');
  });
});

/** A database front door whose members do not answer (no etcd): the tracker finds no primary, and nothing needs PostgreSQL. */
async function frontDoorYaml(extra = ''): Promise<{ yaml: string; front: number }> {
  const [front, m1, m2] = [await freePort(), await freePort(), await freePort()];
  return {
    front,
    yaml: configYaml('front-door', `${extra}databases:
  main:
    postgres:
      listen: 127.0.0.1:${front}
      members:
        - { name: pg1, host: 127.0.0.1, port: ${m1} }
        - { name: pg2, host: 127.0.0.1, port: ${m2} }
      superuser_password: pw
`),
  };
}

describe('bulwark up: a second daemon on the same configuration', () => {
  for (const workers of [1, 2]) {
    it(`exits 1 naming databases.main.postgres.listen and what to do; the first runs on, and its start and stop log no failover (gateway.workers: ${workers})`, async () => {
      const { yaml, front } = await frontDoorYaml(workers > 1 ? `gateway: { workers: ${workers} }\n` : '');
      const first = await startDaemon(h, { yaml });

      const second = await h.run(['up', '-c', first.configFile, '--data-dir', `${first.dataDir}-2`, '--listen', `127.0.0.1:${await freePort()}`], { TEST_SECRET: SECRET });
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`error: the front door of database main cannot listen on 127.0.0.1:${front} (databases.main.postgres.listen): the address is already in use`);
      expect(second.stderr).toContain('hint: another bulwark up is probably running with this configuration; stop it, or change databases.main.postgres.listen');
      // What the user reads: the error and its hint, not the gateway's internal key.
      expect(second.stderr.split('\n').filter((l) => !l.startsWith('{')).join('\n')).not.toContain('db:main');
      expect((await fetch(`${first.base}/readyz`)).status).toBe(200);

      first.proc.child.kill('SIGTERM');
      expect(await withTimeout(first.proc.exited, 20_000, 'first daemon exit')).toEqual({ code: 0, signal: null });
      const lines = logLines(first.proc.stderr());
      expect(lines.some((l) => l.to === 'stopped')).toBe(true);
      expect(lines.filter((l) => l.msg === 'traffic failed over' || l.msg === 'traffic failed back')).toEqual([]);
      // The daemon's own pool, and in worker mode each worker's.
      const waiting = lines.filter((l) => String(l.msg).startsWith('waiting for the first health results'));
      expect(waiting.map((l) => [l.service, l.level])).toEqual(Array.from({ length: workers > 1 ? workers + 1 : 1 }, () => ['db:main', 30]));
    }, 120_000); // worker processes start slowly on a loaded 2-core machine (13 s to ready seen)
  }
});
