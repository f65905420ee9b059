import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveCommand } from '../../src/backup/postgres/index.js';
import { startArchivingPrimary, type ArchivingPrimary } from '../../src/backup/postgres/testing/archiving-primary.js';
import { Writer, type Mark } from '../../src/backup/postgres/testing/writer.js';
import { runAsUser } from '../../src/testing/run-as.js';
import { walCommandPrefix } from '../../src/cli/commands/backup/restore-postgres.js';
import { Harness } from '../daemon/helpers.js';

/**
 * The whole PostgreSQL path through the CLI and a policy in bulwark.yaml:
 * archive_command = `bulwark backup wal archive`, a base backup by
 * `bulwark backup run --policy`, then `bulwark restore --policy --to TIME --verify`
 * into a new data directory: every row acknowledged before the target, none after.
 */
describe('PostgreSQL policy: base backup, WAL archiving, point-in-time restore', () => {
  const h = new Harness();
  let dir: string;
  let config: string;
  let primary: ArchivingPrimary;
  let writer: Writer;
  let mark: Mark;
  let total: number;
  let offsite: string;

  beforeAll(async () => {
    const runAs = await runAsUser();
    dir = await mkdtemp(join(tmpdir(), 'bulwark-pg-policy-'));
    await chmod(dir, 0o755);
    if (runAs) await chown(dir, runAs.uid, runAs.gid);
    const repo = join(dir, 'repo');
    offsite = join(dir, 'offsite');
    const passFile = join(dir, 'backup.pass');
    await writeFile(passFile, 'pg policy password\n', { mode: 0o600 });
    config = join(dir, 'bulwark.yaml');
    const own = async (path: string) => { if (runAs) await promisify(execFile)('chown', ['-R', `${runAs.uid}:${runAs.gid}`, path]); };
    await own(passFile);
    // Asynchronous archiving: with archive_timeout 1 s and a steady writer, a process per segment (about 2 s apiece
    // with two repositories) would fall ever further behind, as it would on a busy server.
    const spool = join(dir, 'spool');
    await mkdir(spool);
    await own(spool);
    const command = archiveCommand(walCommandPrefix(), 'db', { root: spool, suffix: ` -c ${config}` });
    primary = await startArchivingPrimary(dir, command, runAs);
    await writeFile(config, [
      'version: 1', 'name: pg-policy-test',
      'sla_tiers: { gold: { availability: 99%, rto: 1h, rpo: 5m } }',
      'databases:', '  db:', '    tier: gold', '    postgres:',
      `      members: [{ name: p1, host: 127.0.0.1, port: ${primary.connection.port} }]`,
      `      superuser: ${primary.connection.user}`, `      superuser_password: "${primary.connection.password}"`,
      'backups:', '  repositories:', `    local: { path: ${repo}, password: "\${file:${passFile}}" }`,
      `    offsite: { path: ${offsite}, password: "\${file:${passFile}}" }`,
      '  policies:', `    db: { source: { postgres: db }, schedule: daily at 02:00, wal_archiving: { spool: ${spool}, parallel: 2 }, copies: [local, offsite] }`, '',
    ].join('\n'));
    // The repository is created by the first archived WAL file or by the first run, whichever is first; both run as different users.
    const init = await h.run(['backup', 'init', '-c', config, '--repository', 'local']);
    expect(init.code, init.stderr).toBe(0);
    const initCopy = await h.run(['backup', 'init', '-c', config, '--repository', 'offsite', '--copy-from', repo, '--password-file', passFile]);
    expect(initCopy.code, initCopy.stderr).toBe(0);
    await own(repo);
    await own(offsite);
    writer = new Writer(primary.url);
    await writer.start();
  }, 120_000);
  afterAll(async () => {
    await writer?.stop().catch(() => undefined);
    await primary?.stop();
    const pid = Number((await readFile(join(dir, 'spool', 'db', 'archiver.pid'), 'utf8').catch(() => '')).trim());
    if (pid > 0) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    await h.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('restores to a chosen time: every row committed before it, none after', async () => {
    await sleep(500);
    const run = await h.run(['backup', 'run', '-c', config, '--policy', 'db', '--json'], {}, 180_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${primary.log().split('\n').filter((l) => /archive|FATAL|ERROR/.test(l)).slice(-15).join('\n')}`);
    });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const result = JSON.parse(run.stdout) as { ok: boolean; snapshot: { snapshot: { meta: { postgres: { stopLsn: string } } } } };
    expect(result.ok).toBe(true);
    await sleep(1_500);
    mark = await writer.mark();
    await sleep(1_500);
    const client = new pg.Client({ connectionString: primary.url });
    await client.connect();
    // The segment holding the target, and the one after it (so recovery sees a commit past the target), must be archived.
    const holding = (await client.query<{ f: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS f')).rows[0]!.f;
    await client.query('SELECT pg_switch_wal()');
    await expect.poll(async () => (await client.query<{ last: string | null }>('SELECT last_archived_wal AS last FROM pg_stat_archiver')).rows[0]!.last ?? '',
      { timeout: 240_000, interval: 250 }).toSatisfy((last: string) => last.length === 24 && last > holding);
    await client.end();
    total = await writer.stop();
    expect(total).toBeGreaterThan(mark.lastSeq);

    const target = join(dir, 'restored');
    const restore = await h.run(['restore', '-c', config, '--policy', 'db', '--to', mark.time.toISOString(), '--target', target, '--json'], {}, 300_000);
    expect(restore.code, restore.stderr).toBe(0);
    const server = await startRestored(target);
    try {
      expect(server.stopMessage).toMatch(/recovery stopping before commit/);
      const rows = (await server.client.query<{ seq: number }>('SELECT seq FROM t ORDER BY seq')).rows.map((r) => r.seq);
      expect(rows.length).toBe(mark.lastSeq);
      expect(rows[rows.length - 1]).toBe(mark.lastSeq);
    } finally {
      await server.stop();
    }

    // --verify: the CLI starts the restored server itself and reports where it got to.
    const latest = await h.run(['restore', '-c', config, '--policy', 'db', '--to', 'latest', '--target', join(dir, 'latest'), '--verify', '--json'], {}, 300_000);
    expect(latest.code, latest.stderr).toBe(0);
    const report = JSON.parse(latest.stdout) as { recovered: { recoveredLsn: string; lastReplayedTransactionTime: string }; restoreMs: number; totalMs: number };
    expect(report.recovered.recoveredLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(Date.parse(report.recovered.lastReplayedTransactionTime)).toBeGreaterThan(mark.time.getTime());
    expect(report.totalMs).toBeGreaterThanOrEqual(report.restoreMs);
  }, 600_000);

  it('restores to a point in time from the off-site copy alone, with the primary repository deleted', async () => {
    // Every WAL file went to both repositories (archive_command succeeds only then), so the off-site copy alone reaches past the mark.
    const walFiles = async (root: string) => (await readdir(join(root, 'wal'))).filter((f) => f.startsWith('db.')).length;
    expect(await walFiles(offsite)).toBeGreaterThan(0);
    expect(await walFiles(offsite)).toBeGreaterThanOrEqual(await walFiles(join(dir, 'repo')) - 1);
    await primary.stop(); // nothing archives into the primary repository again
    await rm(join(dir, 'repo'), { recursive: true, force: true });

    const plain = await h.run(['restore', '-c', config, '--policy', 'db', '--to', 'latest', '--target', join(dir, 'nope')], {}, 60_000);
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toMatch(/--repository offsite/);

    const restore = await h.run(['restore', '-c', config, '--policy', 'db', '--repository', 'offsite', '--to', mark.time.toISOString(), '--target', join(dir, 'from-offsite'), '--json'], {}, 300_000);
    expect(restore.code, restore.stderr).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ repository: 'offsite' });
    const server = await startRestored(join(dir, 'from-offsite'));
    try {
      const rows = (await server.client.query<{ seq: number }>('SELECT seq FROM t ORDER BY seq')).rows.map((r) => r.seq);
      expect(rows.length).toBe(mark.lastSeq);
      expect(rows[rows.length - 1]).toBe(mark.lastSeq);
    } finally {
      await server.stop();
    }
    const check = await h.run(['backup', 'check', '-c', config, '--repository', 'offsite', '--read-data']);
    expect(check.code, check.stderr + check.stdout).toBe(0);
  }, 600_000);

  async function startRestored(dataDir: string): Promise<{ client: pg.Client; stopMessage: string | undefined; stop(): Promise<void> }> {
    const { startAndAwaitRecovery } = await import('../../src/backup/postgres/index.js');
    const { freePort } = await import('../../src/core/net.js');
    // Each WAL file is one restore_command process (a Node start and a key derivation): seconds apiece on a loaded CI machine.
    const server = await startAndAwaitRecovery({ dataDir, port: await freePort(), timeoutMs: 240_000, user: primary.connection.user });
    const client = new pg.Client({ host: server.socketDir, port: server.port, user: server.user, database: server.database });
    await client.connect();
    return { client, stopMessage: server.result.stopMessage, stop: async () => { await client.end(); await server.stop(); } };
  }
});
