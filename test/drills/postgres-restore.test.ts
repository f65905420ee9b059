import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveCommand, openConfiguredRepo, restoreCommand, runPolicy } from '../../src/backup/index.js';
import { startArchivingPrimary, type ArchivingPrimary } from '../../src/backup/postgres/testing/archiving-primary.js';
import { walCommandPrefix } from '../../src/cli/commands/backup/restore-postgres.js';
import type { BulwarkConfig } from '../../src/config/index.js';
import { DrillRunner } from '../../src/drills/index.js';
import { processStartTicks } from '../../src/drills/proc.js';
import { configFrom } from '../../src/drills/testing/world.js';
import { openSqliteStore, type Store } from '../../src/store/index.js';
import { runAsUser } from '../../src/testing/run-as.js';
import { Harness } from '../daemon/helpers.js';

/**
 * The restoration drill of a PostgreSQL policy on real servers: a primary that
 * archives WAL through `bulwark backup wal archive`, a base backup, rows written
 * after it, then the drill restores into a scratch server that replays the
 * archived WAL, counts the rows and is torn down.
 */
describe('backup restoration drill of a PostgreSQL policy', () => {
  let dir: string;
  let primary: ArchivingPrimary;
  let config: BulwarkConfig;
  let configPath: string;
  let store: Store;

  beforeAll(async () => {
    const runAs = await runAsUser();
    dir = await mkdtemp(join(tmpdir(), 'bulwark-drill-pg-'));
    await chmod(dir, 0o755);
    if (runAs) await chown(dir, runAs.uid, runAs.gid);
    configPath = join(dir, 'bulwark.yaml');
    const repo = join(dir, 'repo');
    await mkdir(repo);
    if (runAs) await chown(repo, runAs.uid, runAs.gid);
    primary = await startArchivingPrimary(dir, `${archiveCommand(walCommandPrefix(), 'db')} -c ${configPath}`, runAs);
    const yaml = [
      'version: 1',
      'sla_tiers: { gold: { availability: 99%, rto: 10m, rpo: 5m } }',
      'databases:', '  db:', '    tier: gold', '    postgres:',
      `      members: [{ name: p1, host: 127.0.0.1, port: ${primary.connection.port} }]`,
      `      superuser: ${primary.connection.user}`, `      superuser_password: "${primary.connection.password}"`,
      'backups:', '  repositories:', `    local: { path: ${repo}, password: drill-pg-password }`,
      '  policies:', '    db: { source: { postgres: db }, schedule: daily, wal_archiving: true, copies: [local] }',
      'dr_testing:',
      '  backup_restoration: { frequency: monthly, validate: { sql: ["SELECT count(*) FROM orders"], min_rows: { orders: 1500 } } }',
      '  too-many: { type: backup_restoration, frequency: monthly, validate: { min_rows: { orders: 1501 } } }', '',
    ].join('\n');
    await writeFile(configPath, yaml);
    config = configFrom(yaml);
    // Created (with all its directories) before the server archives into it as another user.
    await openConfiguredRepo(config.backups!, 'local');
    if (runAs) await promisify(execFile)('chown', ['-R', `${runAs.uid}:${runAs.gid}`, repo, configPath]);
    await mkdir(join(dir, 'data'));
    store = await openSqliteStore({ path: join(dir, 'data', 'bulwark.db') });
    await store.migrate();
  }, 120_000);
  const h = new Harness();
  afterAll(async () => {
    await h.cleanup();
    await store?.close();
    await primary?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function sql(text: string): Promise<Array<Record<string, unknown>>> {
    const client = new pg.Client({ connectionString: primary.url });
    await client.connect();
    try {
      return (await client.query(text)).rows as Array<Record<string, unknown>>;
    } finally {
      await client.end();
    }
  }

  it('restores the base backup and every archived WAL file into a scratch server, validates the rows, tears it down', async () => {
    await sql('CREATE TABLE orders (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now()); INSERT INTO orders (id) SELECT generate_series(1, 1000)');
    const backup = await runPolicy(config, 'db');
    expect(backup.ok, backup.error).toBe(true);
    await sql('INSERT INTO orders (id) SELECT generate_series(1001, 1500)');
    const holding = String((await sql('SELECT pg_walfile_name(pg_current_wal_lsn()) AS f'))[0]!.f);
    await sql('SELECT pg_switch_wal()');
    await expect.poll(async () => String((await sql('SELECT last_archived_wal AS last FROM pg_stat_archiver'))[0]!.last ?? ''), { timeout: 120_000, interval: 250 })
      .toSatisfy((last: string) => last.length === 24 && last >= holding);

    const runner = new DrillRunner({
      config, dataDir: join(dir, 'data'), store,
      walRestoreCommand: (policy, repository) => `${restoreCommand(walCommandPrefix(), policy)} -c ${configPath} --repository ${repository}`,
    });
    const report = await runner.run('backup_restoration');
    const [db] = report.policies;
    expect(report.outcome, JSON.stringify(report, null, 2)).toBe('passed');
    expect(db).toMatchObject({ policy: 'db', source: 'postgres', problems: [], rowCounts: { 'SELECT count(*) FROM orders': 1500, orders: 1500 }, rto: { targetMs: 600_000, passed: true }, rpo: { targetMs: 300_000, passed: true } });
    expect(report.timeline.map((s) => s.step)).toEqual(['fetch', 'restore', 'start', 'validate', 'teardown', 'teardown']);
    expect(Date.parse(db!.restorePoint!)).toBeGreaterThan(Date.parse(backup.startedAt));
    expect(await readdir(join(dir, 'data', 'drills', 'sandboxes'))).toEqual([]);
    expect(existsSync(join(dir, 'data', 'drills', 'journal.json'))).toBe(false);
    const postgresLeft = await promisify(execFile)('pgrep', ['-f', join(dir, 'data', 'drills')]).then((r) => r.stdout.trim(), () => '');
    expect(postgresLeft).toBe('');
    process.stderr.write(`PostgreSQL drill RTO ${db!.rto!.measuredMs} ms, phases ${JSON.stringify(db!.phasesMs)}, RPO ${db!.rpo!.measuredMs} ms\n`);

    const short = await runner.run('too-many');
    expect(short.outcome).toBe('failed');
    expect(short.policies[0]!.problems).toEqual(['orders has 1500 rows, at least 1501 expected']);
    expect(await readdir(join(dir, 'data', 'drills', 'sandboxes'))).toEqual([]);
  }, 600_000);

  it('SIGKILL mid-drill: the next start stops the scratch PostgreSQL, removes the sandbox and records the run as aborted', async () => {
    const journalPath = join(dir, 'data', 'drills', 'journal.json');
    const cli = h.spawn(['drill', 'run', 'backup_restoration', '-c', configPath, '--data-dir', join(dir, 'data')]);
    const entry = await expect.poll(async () => {
      const text = await readFile(journalPath, 'utf8').catch(() => '{"entries":[]}');
      return (JSON.parse(text) as { entries: Array<{ kind: string; pid?: number }> }).entries.find((e) => e.kind === 'postgres' && e.pid !== undefined);
    }, { timeout: 120_000, interval: 50 }).toBeDefined().then(async () => JSON.parse(await readFile(journalPath, 'utf8')) as { run: { id: string }; entries: Array<{ kind: string; pid?: number }> });
    cli.child.kill('SIGKILL');
    await cli.exited;
    const pid = entry.entries.find((e) => e.kind === 'postgres')!.pid!;
    expect(() => process.kill(pid, 0)).not.toThrow();

    const runner = new DrillRunner({ config, dataDir: join(dir, 'data'), store });
    const report = await runner.recover();
    expect(report).toMatchObject({ id: entry.run.id, outcome: 'aborted' });
    expect(report!.timeline[0]!.detail).toContain(`stopped the scratch PostgreSQL (pid ${pid})`);
    // Gone, or a zombie its new parent has not reaped (a container's init may never): either way not running.
    expect(await processStartTicks(pid)).toBeUndefined();
    expect(await readdir(join(dir, 'data', 'drills', 'sandboxes'))).toEqual([]);
    expect(existsSync(journalPath)).toBe(false);
    expect((await store.drillRuns.get(entry.run.id))?.outcome).toBe('aborted');
  }, 300_000);
});
