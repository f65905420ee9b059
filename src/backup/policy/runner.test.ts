import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../config/index.js';
import type { BulwarkConfig } from '../../config/index.js';
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

  it('retention of one policy never removes another\'s snapshots in a shared repository; a copy keeps its own retention', async () => {
    const alphaDir = join(dir, 'alpha-src');
    const betaDir = join(dir, 'beta-src');
    await mkdir(alphaDir, { recursive: true });
    await mkdir(betaDir, { recursive: true });
    const config = configFrom(`
version: 1
backups:
  repositories:
    shared: { path: ${join(dir, 'shared')}, password: pw-shared }
    archive: { path: ${join(dir, 'archive')}, password: pw-archive }
  policies:
    alpha: { source: { paths: [${alphaDir}] }, schedule: every 30 minutes, retention: { keep_last: 1 }, copies: [shared, { repository: archive, retention: { keep_last: 4 } }] }
    beta: { source: { paths: [${betaDir}] }, schedule: every 30 minutes, retention: { keep_last: 5 }, copies: [shared] }
`);
    for (let i = 0; i < 3; i++) {
      await writeFile(join(betaDir, 'file'), `beta ${i}`);
      expect((await runPolicy(config, 'beta')).ok).toBe(true);
    }
    await writeFile(join(alphaDir, 'file'), 'alpha 0');
    const alpha = await runPolicy(config, 'alpha');
    expect(alpha).toMatchObject({ ok: true, forgotten: 0 });
    const shared = await openConfiguredRepo(config.backups!, 'shared', { create: false });
    const byPolicy = async () => {
      const counts: Record<string, number> = {};
      for (const s of await shared.listSnapshots()) counts[s.snapshot.source.policy!] = (counts[s.snapshot.source.policy!] ?? 0) + 1;
      return counts;
    };
    expect(await byPolicy()).toEqual({ alpha: 1, beta: 3 });

    // The primary keeps alpha's newest one; the archive copy keeps four, by its own retention.
    for (let i = 1; i < 6; i++) {
      await writeFile(join(alphaDir, 'file'), `alpha ${i}`);
      const run = await runPolicy(config, 'alpha');
      expect(run.ok).toBe(true);
      expect(run.copies).toMatchObject([{ repository: 'archive', ok: true }]);
    }
    expect(await byPolicy()).toEqual({ alpha: 1, beta: 3 });
    const archive = await openConfiguredRepo(config.backups!, 'archive', { create: false });
    expect(await archive.listSnapshots()).toHaveLength(4);
    const { checkRepository } = await import('../maintenance/check.js');
    expect((await checkRepository(archive, { readData: true })).ok).toBe(true);
    expect((await checkRepository(shared, { readData: true })).ok).toBe(true);
    await shared.close();
    await archive.close();
  }, 120_000);
});
