import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isBaseBackupOf, loadPointInTimeRecovery, openConfiguredRepo, restoreSnapshot, type BaseBackupInfo, type PolicyConfig, type Repository, type SnapshotRef } from '../backup/index.js';
import { BulwarkError } from '../core/errors.js';
import { freePort } from '../core/net.js';
import type { RestoreContext } from './context.js';
import { processStartTicks } from './proc.js';
import { withSandbox } from './sandbox.js';
import type { PolicyMeasurement } from './types.js';
import { validateDatabase } from './validate-sql.js';

type Recovered = Awaited<ReturnType<Awaited<ReturnType<typeof loadPointInTimeRecovery>>['startAndAwaitRecovery']>>;

/** Replay of all archived WAL may take long; past this the drill fails rather than hang. */
const RECOVERY_TIMEOUT_MS = 30 * 60_000;

/**
 * A PostgreSQL policy: restore its latest base backup into a sandbox, replay
 * every archived WAL file in a scratch server on a free port, run the
 * validation SQL there, then stop the server and remove the sandbox.
 */
export async function drillPostgresPolicy(ctx: RestoreContext, name: string, policy: PolicyConfig, m: PolicyMeasurement): Promise<void> {
  if (!ctx.walRestoreCommand) throw new BulwarkError('INTERNAL', 'a PostgreSQL restore drill needs the restore_command of this program');
  const pitr = await loadPointInTimeRecovery();
  const repository = policy.copies[0]!;
  const { repo, base } = await ctx.timeline.step('fetch', name, () => latestBaseBackup(ctx, name, repository), (r) => `base backup ${r.base.id.slice(0, 8)} of ${r.base.snapshot.time}`);
  const info = base.snapshot.meta!.postgres as BaseBackupInfo;
  m.snapshot = base.id;
  await withSandbox(ctx, name, async (dir) => {
    const dataDir = join(dir, 'data');
    await ctx.timeline.step('restore', name, async () => {
      const summary = await restoreSnapshot(repo, base, { target: dataDir, root: base.snapshot.paths[0], signal: ctx.signal });
      await pitr.prepareRecovery({ dataDir, target: { kind: 'latest' }, restoreCommand: ctx.walRestoreCommand!(name, repository) });
      return summary;
    }, (s) => `${s.files} files, ${s.bytes} bytes of the base backup into ${dataDir}; recovery to the end of the archived WAL configured`);
    await ctx.journal.add({ kind: 'postgres', dataDir });
    let server: Recovered | undefined;
    try {
      server = await ctx.timeline.step('start', name, async () => startRecovery(ctx, pitr, name, dataDir), (s) => `port ${s.port}: recovered to ${s.result.recoveredLsn} in ${s.result.durationMs} ms`);
      m.recoveredLsn = server.result.recoveredLsn;
      m.restorePoint = (server.result.lastReplayedTransactionTime ?? new Date(info.stopTime)).toISOString();
      const checked = await ctx.timeline.step('validate', name, () => validateDatabase(server!, ctx.drill.validate, ctx.signal),
        (v) => Object.entries(v.rowCounts).map(([q, n]) => `${q}: ${n}`).join('; ') || 'connected');
      m.rowCounts = checked.rowCounts;
      m.problems.push(...checked.problems);
    } finally {
      await ctx.timeline.step('teardown', name, async () => {
        await server?.stop();
        await ctx.journal.remove((e) => e.kind === 'postgres' && e.dataDir === dataDir);
      }, () => 'scratch PostgreSQL stopped');
    }
  });
}

async function latestBaseBackup(ctx: RestoreContext, name: string, repository: string): Promise<{ repo: Repository; base: SnapshotRef }> {
  const repo = await openConfiguredRepo(ctx.config.backups!, repository, { create: false, signal: ctx.signal });
  const base = (await repo.listSnapshots(ctx.signal)).filter((s) => isBaseBackupOf(s, name)).at(-1);
  if (!base) throw new BulwarkError('NOT_FOUND', `policy ${name} has no PostgreSQL base backup in repository ${repository}`, { hint: `run \`bulwark backup run -c bulwark.yaml --policy ${name}\` first` });
  return { repo, base };
}

async function startRecovery(ctx: RestoreContext, pitr: Awaited<ReturnType<typeof loadPointInTimeRecovery>>, name: string, dataDir: string): Promise<Recovered> {
  const db = ctx.config.backups!.policies[name]!.source.postgres;
  const user = db === undefined ? undefined : ctx.config.databases[db]?.postgres?.superuser;
  const pending = pitr.startAndAwaitRecovery({ dataDir, port: await freePort(), timeoutMs: RECOVERY_TIMEOUT_MS, user, signal: ctx.signal });
  // The server's pid goes into the journal as soon as postmaster.pid names it, while replay is still running.
  void recordPid(ctx, dataDir, pending);
  return pending;
}

async function recordPid(ctx: RestoreContext, dataDir: string, pending: Promise<unknown>): Promise<void> {
  let done = false;
  void pending.finally(() => (done = true)).catch(() => undefined);
  while (!done) {
    const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
    const startTicks = pid > 0 ? await processStartTicks(pid) : undefined;
    if (startTicks !== undefined) {
      await ctx.journal.update((e) => e.kind === 'postgres' && e.dataDir === dataDir, { kind: 'postgres', dataDir, pid, startTicks }).catch(() => undefined);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
