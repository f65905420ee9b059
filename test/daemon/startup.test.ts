import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configYaml, freePort, Harness, SECRET } from './helpers.js';

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

  it('on a port already in use: non-zero exit with "already in use"', async () => {
    const blocker = createServer();
    servers.push(blocker);
    const port = await new Promise<number>((resolve) => {
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port));
    });
    const { dir, file } = await writeConfig(configYaml());
    const result = await h.run(['up', '-c', file, '--data-dir', join(dir, 'data'), '--listen', `127.0.0.1:${port}`], { TEST_SECRET: SECRET });
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain('already in use');
    expect(result.stderr).toContain(`127.0.0.1:${port}`);
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
