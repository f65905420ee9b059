import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../config/index.js';
import type { BulwarkConfig } from '../../config/schema.js';
import { startRedis, type RedisServer } from '../../probes/testing/redis-server.js';
import { restoreSnapshot } from '../restore/restorer.js';
import { tempDir } from '../testing/repo-fixture.js';
import { openConfiguredRepo } from './repos.js';
import { runPolicy } from './runner.js';

function configFrom(yaml: string): BulwarkConfig {
  const loaded = parseConfigText(yaml, 'bulwark.yaml');
  if (!loaded.config) throw new Error(loaded.findings.map((f) => f.message).join('\n'));
  return loaded.config as BulwarkConfig;
}

describe('policy runs', () => {
  let dir: string;
  let redis: RedisServer;
  beforeAll(async () => {
    dir = await tempDir();
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it('backs up a Redis RDB file, keeps retention, and copies to every reachable repository while one copy target is down', async () => {
    await redis.cli('SET', 'greeting', 'hello from redis');
    const config = configFrom(`
version: 1
databases:
  cache: { redis: { members: [{ name: r1, host: 127.0.0.1, port: ${redis.port} }] } }
backups:
  repositories:
    main: { path: ${join(dir, 'main')}, password: pw-main }
    second: { path: ${join(dir, 'second')}, password: pw-second }
    gone: { sftp: { host: 127.0.0.1, port: 1, user: nobody, path: /nowhere, password: x }, password: pw-gone }
  policies:
    cache: { source: { redis: cache }, schedule: every 30 minutes, retention: { keep_last: 2 }, copies: [main, second, gone] }
`);
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await runPolicy(config, 'cache'));
    const last = results.at(-1)!;
    expect(last).toMatchObject({ ok: true, partial: false, forgotten: 1 });
    expect(last.copies.map((c) => [c.repository, c.ok])).toEqual([['second', true], ['gone', false]]);
    expect(last.copies[1]!.error).toMatch(/127\.0\.0\.1:1/);

    const main = await openConfiguredRepo(config.backups!, 'main', { create: false });
    expect(await main.listSnapshots()).toHaveLength(2);
    const second = await openConfiguredRepo(config.backups!, 'second', { create: false });
    const copy = await second.findSnapshot('latest');
    expect(copy.snapshot.source).toMatchObject({ kind: 'redis', name: 'cache', policy: 'cache' });
    const target = join(dir, 'restored');
    await mkdir(target);
    await restoreSnapshot(second, copy, { target, root: copy.snapshot.paths[0] });
    const rdb = await readFile(join(target, 'dump.rdb'));
    expect(rdb.subarray(0, 5).toString()).toBe('REDIS');
    expect(rdb.includes(Buffer.from('hello from redis'))).toBe(true);
  }, 120_000);

  it('reports a missing source path as a failed run, not a crash', async () => {
    const config = configFrom(`
version: 1
backups:
  repositories: { main: { path: ${join(dir, 'paths-repo')}, password: pw } }
  policies: { files: { source: { paths: [${join(dir, 'missing')}] }, schedule: every 30 minutes, copies: [main] } }
`);
    await writeFile(join(dir, 'unused'), '');
    const result = await runPolicy(config, 'files');
    expect(result.partial || !result.ok).toBe(true);
  });
});
