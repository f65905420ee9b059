import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveCommand, findWalGaps } from '../../src/backup/postgres/index.js';
import { startArchivingPrimary, type ArchivingPrimary } from '../../src/backup/postgres/testing/archiving-primary.js';
import { Writer, type Mark } from '../../src/backup/postgres/testing/writer.js';
import { openConfiguredRepo } from '../../src/backup/policy/repos.js';
import { RepoWalStore } from '../../src/backup/policy/repo-wal-store.js';
import { parseConfigText } from '../../src/config/index.js';
import type { BulwarkConfig } from '../../src/config/schema.js';
import { runAsUser } from '../../src/testing/run-as.js';
import { walCommandPrefix } from '../../src/cli/commands/backup/restore-postgres.js';
import { Harness } from '../daemon/helpers.js';

/**
 * Asynchronous WAL archiving under a real PostgreSQL: archive_command is the
 * shell-first command `bulwark backup wal command` prints, the archiver is
 * SIGKILLed three times while WAL keeps coming, and afterwards both
 * repositories hold every segment from the base backup on, pass
 * `check --read-data`, and the off-site copy alone restores to a point in time.
 */
describe('asynchronous WAL archiving with PostgreSQL, the archiver SIGKILLed mid-flight', () => {
  const h = new Harness();
  let dir: string;
  let configPath: string;
  let config: BulwarkConfig;
  let primary: ArchivingPrimary;
  let writer: Writer;
  let spoolDir: string;

  beforeAll(async () => {
    const runAs = await runAsUser();
    dir = await mkdtemp(join(tmpdir(), 'bulwark-wal-async-pg-'));
    await chmod(dir, 0o755);
    if (runAs) await chown(dir, runAs.uid, runAs.gid);
    const own = async (path: string) => { if (runAs) await promisify(execFile)('chown', ['-R', `${runAs.uid}:${runAs.gid}`, path]); };
    const passFile = join(dir, 'backup.pass');
    await writeFile(passFile, 'async wal password\n', { mode: 0o600 });
    await own(passFile);
    const spool = join(dir, 'spool');
    spoolDir = join(spool, 'db');
    await mkdir(spool);
    await own(spool);
    configPath = join(dir, 'bulwark.yaml');
    const command = archiveCommand(walCommandPrefix(), 'db', { root: spool, suffix: ` -c ${configPath}`, waitSeconds: 60 });
    primary = await startArchivingPrimary(dir, command, runAs);
    const yaml = [
      'version: 1', 'name: wal-async-test',
      'databases:', '  db:', '    postgres:',
      `      members: [{ name: p1, host: 127.0.0.1, port: ${primary.connection.port} }]`,
      `      superuser: ${primary.connection.user}`, `      superuser_password: "${primary.connection.password}"`,
      'backups:', '  repositories:',
      `    local: { path: ${join(dir, 'local')}, password: "\${file:${passFile}}" }`,
      `    offsite: { path: ${join(dir, 'offsite')}, password: "\${file:${passFile}}" }`,
      '  policies:',
      `    db: { source: { postgres: db }, schedule: daily at 02:00, wal_archiving: { spool: ${spool}, parallel: 2 }, copies: [local, offsite] }`, '',
    ].join('\n');
    await writeFile(configPath, yaml);
    config = parseConfigText(yaml, configPath).config as BulwarkConfig;
    for (const [repository, extra] of [['local', []], ['offsite', ['--copy-from', join(dir, 'local'), '--password-file', passFile]]] as const) {
      const init = await h.run(['backup', 'init', '-c', configPath, '--repository', repository, ...extra]);
      expect(init.code, init.stderr).toBe(0);
      await own(join(dir, repository));
    }
    writer = new Writer(primary.url);
    await writer.start();
  }, 120_000);
  afterAll(async () => {
    await writer?.stop().catch(() => undefined);
    await primary?.stop();
    const pid = Number((await readFile(join(spoolDir, 'archiver.pid'), 'utf8').catch(() => '')).trim());
    if (pid > 0) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    await h.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('loses no segment, marks none archived before both repositories hold it, and the off-site copy restores to a point in time', async () => {
    const run = await h.run(['backup', 'run', '-c', configPath, '--policy', 'db', '--json'], {}, 180_000);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const base = JSON.parse(run.stdout) as { snapshot: { snapshot: { meta: { postgres: { startWalFile: string } } } } };
    const startWal = base.snapshot.snapshot.meta.postgres.startWalFile;

    const client = new pg.Client({ connectionString: primary.url });
    await client.connect();
    let kills = 0;
    for (let i = 0; i < 3; i++) {
      // Wait for a running archiver (the next WAL file starts one), let it work a moment, kill it.
      const pid = await waitForArchiver();
      await client.query('SELECT pg_switch_wal()');
      await sleep(150);
      try {
        process.kill(pid, 'SIGKILL');
        kills++;
      } catch { /* it had just gone idle */ }
    }
    expect(kills).toBeGreaterThanOrEqual(2);
    const mark: Mark = await writer.mark();
    await sleep(500);
    const target = (await client.query<{ f: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS f')).rows[0]!.f;
    await client.query('SELECT pg_switch_wal()');
    await expect.poll(async () => (await client.query<{ last: string | null }>('SELECT last_archived_wal AS last FROM pg_stat_archiver')).rows[0]!.last ?? '', { timeout: 120_000, interval: 200 })
      .toSatisfy((last: string) => last.length === 24 && last >= target);
    await client.end();
    await writer.stop();

    const status = await h.run(['backup', 'wal', 'status', 'db', '-c', configPath, '--json']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ mode: 'async', failing: false });

    for (const repository of ['local', 'offsite']) {
      const repo = await openConfiguredRepo(config.backups!, repository, { create: false });
      try {
        const store = new RepoWalStore(repo, 'db');
        expect(await findWalGaps(store, startWal), `gaps in ${repository}`).toEqual([]);
        expect((await store.list()).filter((n) => n.length === 24 && n <= target && n >= startWal).length).toBeGreaterThan(3);
      } finally {
        await repo.close();
      }
      const check = await h.run(['backup', 'check', '-c', configPath, '--repository', repository, '--read-data']);
      expect(check.code, check.stdout + check.stderr).toBe(0);
    }

    await primary.stop();
    const restore = await h.run(['restore', '-c', configPath, '--policy', 'db', '--repository', 'offsite', '--to', mark.time.toISOString(), '--target', join(dir, 'restored'), '--verify', '--json'], {}, 300_000);
    expect(restore.code, restore.stderr).toBe(0);
    const report = JSON.parse(restore.stdout) as { recovered: { stopMessage?: string } };
    expect(report.recovered.stopMessage).toMatch(/recovery stopping before commit/);
  }, 600_000);

  async function waitForArchiver(): Promise<number> {
    let pid = 0;
    await expect.poll(async () => {
      pid = Number((await readFile(join(spoolDir, 'archiver.pid'), 'utf8').catch(() => '')).trim());
      if (pid > 0) try { process.kill(pid, 0); } catch { pid = 0; }
      return pid;
    }, { timeout: 60_000, interval: 50 }).toBeGreaterThan(0);
    return pid;
  }
});
