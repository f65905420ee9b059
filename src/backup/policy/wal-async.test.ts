import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../config/index.js';
import type { BulwarkConfig } from '../../config/index.js';
import { walCommandPrefix } from '../../cli/commands/backup/restore-postgres.js';
import { WalSpool } from '../postgres/wal-spool.js';
import { tempDir } from '../testing/repo-fixture.js';
import { openConfiguredRepo } from './repos.js';
import { RepoWalStore } from './repo-wal-store.js';
import { findPolicy } from './runner.js';
import { pushAsync } from './wal-async.js';
import { archiveStatus } from './wal-status.js';

/**
 * The asynchronous archiver against a pg_wal of our own making: WAL files and
 * archive_status/NAME.ready markers, as PostgreSQL leaves them. The archiver
 * runs as the real CLI process that archive_command would start.
 */
describe('asynchronous WAL archiving', () => {
  let dir: string;
  let pgWal: string;
  let config: BulwarkConfig;
  let configPath: string;
  const names = Array.from({ length: 24 }, (_, i) => `0000000100000000000000${(i + 16).toString(16).toUpperCase().padStart(2, '0')}`);

  beforeEach(async () => {
    dir = await tempDir('bulwark-wal-async-');
    pgWal = join(dir, 'pg_wal');
    await mkdir(join(pgWal, 'archive_status'), { recursive: true });
    for (const name of names) {
      await writeFile(join(pgWal, name), randomBytes(256 * 1024));
      await writeFile(join(pgWal, 'archive_status', `${name}.ready`), '');
    }
    configPath = join(dir, 'bulwark.yaml');
    const yaml = `
version: 1
databases:
  db: { postgres: { members: [{ name: p1, host: 127.0.0.1, port: 1 }] } }
backups:
  repositories:
    local: { path: ${join(dir, 'local')}, password: pw-local }
    offsite: { path: ${join(dir, 'offsite')}, password: pw-offsite }
  policies:
    db: { source: { postgres: db }, schedule: daily at 02:00, wal_archiving: { spool: ${join(dir, 'spool')}, parallel: 3, timeout: 30s }, copies: [local, offsite] }
`;
    await writeFile(configPath, yaml);
    const loaded = parseConfigText(yaml, configPath);
    config = loaded.config as BulwarkConfig;
  });
  afterEach(async () => {
    await stopArchiver();
    await rm(dir, { recursive: true, force: true });
  });

  const policy = () => findPolicy(config, 'db');
  const argv = (idle = '2s') => (wal: string) => [...walCommandPrefix().slice(1), 'wal', 'archiver', 'db', '--pg-wal', wal, '-c', configPath, '--idle', idle];
  const push = (name: string, idle?: string) => pushAsync('db', policy().wal_async!, join(pgWal, name), { archiverArgv: argv(idle) });
  const spool = () => new WalSpool(join(dir, 'spool'), 'db');

  async function archivedIn(repository: string): Promise<string[]> {
    const repo = await openConfiguredRepo(config.backups!, repository, { create: false });
    try {
      return await new RepoWalStore(repo, 'db').list();
    } finally {
      await repo.close();
    }
  }

  async function archiverPid(): Promise<number | undefined> {
    const { readFile } = await import('node:fs/promises');
    const pid = Number((await readFile(spool().pidPath, 'utf8').catch(() => '')).trim());
    return pid > 0 ? pid : undefined;
  }

  async function stopArchiver(): Promise<void> {
    const pid = await archiverPid().catch(() => undefined);
    if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }

  it('archive_command returns once the file is in every repository; the archiver ships the rest ahead and cleans up after PostgreSQL', async () => {
    expect(await push(names[0]!)).toBe('archived');
    for (const name of names) expect(await push(name)).toBe('archived'); // already shipped ahead, or waited for
    expect(await archivedIn('local')).toEqual(names);
    expect(await archivedIn('offsite')).toEqual(names);
    const status = await archiveStatus('db', policy());
    expect(status).toMatchObject({ mode: 'async', failing: false });

    // PostgreSQL marks them done; the archiver forgets their outcomes.
    for (const name of names) await rename(join(pgWal, 'archive_status', `${name}.ready`), join(pgWal, 'archive_status', `${name}.done`));
    const next = '000000010000000000000030';
    await writeFile(join(pgWal, next), randomBytes(1024));
    await writeFile(join(pgWal, 'archive_status', `${next}.ready`), '');
    expect(await push(next)).toBe('archived');
    await expect.poll(async () => (await readdir(spool().dir)).filter((f) => f.endsWith('.ok')), { timeout: 10_000 }).toEqual([`${next}.ok`]);
  }, 60_000);

  it('never takes an .ok older than the WAL file for an answer', async () => {
    const name = names[0]!;
    await spool().create();
    await writeFile(spool().okPath(name), 'from another life\n');
    const past = new Date(Date.now() - 60_000);
    await utimes(spool().okPath(name), past, past);
    expect(await spool().outcome(name, join(pgWal, name))).toBeUndefined();
    expect(await push(name)).toBe('archived');
    expect(await archivedIn('offsite')).toContain(name);
  }, 60_000);

  it('fails archive_command with the repository\'s error while one copy cannot be written, and catches up once it can', async () => {
    await writeFile(join(dir, 'offsite'), 'a file where the repository should be');
    const error = await push(names[0]!).then(() => undefined, (err: Error) => err);
    expect(error?.message).toMatch(/could not store 000000010000000000000010[\s\S]*offsite/);
    expect(await spool().outcome(names[0]!, join(pgWal, names[0]!))).toMatchObject({ kind: 'error' });
    // The archiver writes its status right after the outcomes that archive_command reads.
    await expect.poll(async () => (await archiveStatus('db', policy())).failing, { timeout: 10_000 }).toBe(true);
    expect((await archiveStatus('db', policy())).lines.join('\n')).toMatch(/FAILING: [\s\S]*offsite/);

    await stopArchiver();
    await rm(join(dir, 'offsite'));
    for (const name of names) expect(await push(name)).toBe('archived');
    expect(await archivedIn('offsite')).toEqual(names);
  }, 90_000);

  it('SIGKILL of the archiver mid-batch: no file is marked archived before every repository holds it, and a new archiver finishes the job', async () => {
    const many = Array.from({ length: 60 }, (_, i) => `0000000100000001000000${i.toString(16).toUpperCase().padStart(2, '0')}`);
    for (const name of many) {
      await writeFile(join(pgWal, name), randomBytes(512 * 1024));
      await writeFile(join(pgWal, 'archive_status', `${name}.ready`), '');
    }
    const all = [...names, ...many].sort();
    let kills = 0;
    // Like PostgreSQL's archive_command waiting on the last file: each waiter restarts a killed archiver.
    const waiters = [push(all[all.length - 1]!, '30s').catch(() => 'failed')];
    for (let i = 0; i < 3; i++) {
      // Kill as soon as this archiver has marked a few more files: it is in the middle of a batch.
      const before = await okCount();
      await expect.poll(async () => (await okCount()) > before + 2 && (await archiverPid()) !== undefined, { timeout: 30_000, interval: 20 }).toBe(true);
      const pid = await archiverPid();
      if (pid) {
        process.kill(pid, 'SIGKILL');
        kills++;
      }
      await invariant();
      waiters.push(push(all[all.length - 1]!, '30s').catch(() => 'failed'));
    }
    expect(kills).toBe(3);
    await Promise.all(waiters);
    for (const name of all) expect(await push(name, '30s')).toBe('archived');
    await invariant();
    expect(await archivedIn('local')).toEqual(all);
    expect(await archivedIn('offsite')).toEqual(all);
    const { checkRepository } = await import('../maintenance/check.js');
    for (const repository of ['local', 'offsite']) {
      const repo = await openConfiguredRepo(config.backups!, repository, { create: false });
      try {
        expect((await checkRepository(repo, { readData: true })).ok).toBe(true);
      } finally {
        await repo.close();
      }
    }
  }, 180_000);

  it('SIGKILL while the sealing workers hold 16 MiB segments: nothing is marked archived that is not whole in every repository', async () => {
    const text = Buffer.from('INSERT INTO orders VALUES (42, \'widget\', 19.99, now());\n'.repeat(80_000));
    const big = Array.from({ length: 8 }, (_, i) => `00000001000000020000000${i}`);
    for (const name of big) {
      await writeFile(join(pgWal, name), Buffer.concat([randomBytes(8 * 1024 * 1024), text]).subarray(0, 16 * 1024 * 1024));
      await writeFile(join(pgWal, 'archive_status', `${name}.ready`), '');
    }
    const all = [...names, ...big];
    const waiter = push(big[big.length - 1]!, '30s').catch(() => 'failed');
    // The first big segment is archived: the workers hold the next ones (parallel: 3).
    await expect.poll(async () => (await readdir(spool().dir).catch(() => [])).some((f) => f.startsWith('000000010000000200') && f.endsWith('.ok')), { timeout: 120_000, interval: 20 }).toBe(true);
    const pid = await archiverPid();
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGKILL');
    await invariant();
    expect(await okCount()).toBeLessThan(all.length);
    await waiter;
    for (const name of all) expect(await push(name, '30s')).toBe('archived');
    await invariant();
    expect(await archivedIn('offsite')).toEqual(all);
    const { checkRepository } = await import('../maintenance/check.js');
    for (const repository of ['local', 'offsite']) {
      const repo = await openConfiguredRepo(config.backups!, repository, { create: false });
      try {
        expect((await checkRepository(repo, { readData: true })).ok).toBe(true);
      } finally {
        await repo.close();
      }
    }
  }, 240_000);

  async function okCount(): Promise<number> {
    return (await readdir(spool().dir).catch(() => [])).filter((f) => f.endsWith('.ok')).length;
  }

  /** Every file the spool calls archived is readable, whole, in every repository. */
  async function invariant(): Promise<void> {
    const ok = (await readdir(spool().dir)).filter((f) => f.endsWith('.ok')).map((f) => f.slice(0, -3));
    const { readFile } = await import('node:fs/promises');
    for (const repository of ['local', 'offsite']) {
      const repo = await openConfiguredRepo(config.backups!, repository, { create: false });
      try {
        const store = new RepoWalStore(repo, 'db');
        for (const name of ok) expect((await store.get(name))?.equals(await readFile(join(pgWal, name))), `${name} in ${repository}`).toBe(true);
      } finally {
        await repo.close();
      }
    }
  }
});
