import type { BulwarkConfig } from '../../config/index.js';
import { BulwarkError, errorMessage } from '../../core/errors.js';
import { secretRegistry } from '../../core/secrets.js';
import type { BackupCopyRecord, BackupRunKind, BackupRunRecord } from '../../store/index.js';
import { checkRepository } from '../maintenance/check.js';
import { openConfiguredRepo, type BackupsConfig } from '../policy/repos.js';
import { findPolicy, runPolicy, type PolicyRunResult } from '../policy/runner.js';
import type { Snapshot } from '../repo/types.js';

export interface RunContext {
  id: string;
  policy: string;
  kind: BackupRunKind;
  /** The configuration in effect when the run started. */
  config: BulwarkConfig;
  signal: AbortSignal;
  now: () => number;
}

/** Does one run and describes it; never throws: a failure is a record with `ok: false`. */
export type RunExecutor = (ctx: RunContext) => Promise<BackupRunRecord>;

/** How long a scheduled run waits for another process's conflicting repository lock. */
export const LOCK_WAIT_MS = 5 * 60_000;
const MAX_ERROR_LINES = 5;

export const defaultExecutors: Record<BackupRunKind, RunExecutor> = { backup: executeBackup, verify: executeVerify };

/** Backs the policy up into its first repository, applies retention, copies to the others. */
export async function executeBackup(ctx: RunContext): Promise<BackupRunRecord> {
  const started = ctx.now();
  try {
    const result = await runPolicy(ctx.config, ctx.policy, { signal: ctx.signal, lockWaitMs: LOCK_WAIT_MS });
    return fromPolicyResult(ctx, started, result);
  } catch (err) {
    return failedRun(ctx, started, ctx.config.backups?.policies[ctx.policy]?.copies[0] ?? '', err);
  }
}

/** Checks every repository of the policy, reading the configured subset of the data. */
export async function executeVerify(ctx: RunContext): Promise<BackupRunRecord> {
  const started = ctx.now();
  try {
    const policy = findPolicy(ctx.config, ctx.policy);
    const checks: BackupCopyRecord[] = [];
    let bytes = 0;
    for (const repository of policy.copies) {
      ctx.signal.throwIfAborted();
      const checked = await verifyRepository(ctx.config.backups!, repository, policy.verify?.read_data_subset, ctx.signal);
      checks.push({ ...checked.record, error: scrub(checked.record.error, ctx.config) });
      bytes += checked.bytesRead;
    }
    const failed = checks.filter((c) => !c.ok);
    const finished = ctx.now();
    return {
      ...base(ctx, started, policy.copies[0] ?? ''), finishedAt: finished, durationMs: finished - started, ok: failed.length === 0, bytes, copies: checks,
      error: failed.length === 0 ? null : failed.map((c) => `${c.repository}: ${c.error ?? 'failed'}`).join('\n'),
    };
  } catch (err) {
    return failedRun(ctx, started, ctx.config.backups?.policies[ctx.policy]?.copies[0] ?? '', err);
  }
}

async function verifyRepository(backups: BackupsConfig, name: string, subset: string | undefined, signal: AbortSignal): Promise<{ record: BackupCopyRecord; bytesRead: number }> {
  const started = Date.now();
  let repo: Awaited<ReturnType<typeof openConfiguredRepo>> | undefined;
  try {
    repo = await openConfiguredRepo(backups, name, { create: false, signal });
    const report = await checkRepository(repo, { readDataSubset: subset, signal });
    const error = report.ok ? null : `${report.errors.length} error(s): ${report.errors.slice(0, MAX_ERROR_LINES).join('; ')}`;
    return { record: { repository: name, ok: report.ok, snapshotId: null, error, durationMs: Date.now() - started }, bytesRead: report.bytesRead };
  } catch (err) {
    return { record: { repository: name, ok: false, snapshotId: null, error: describe(err), durationMs: Date.now() - started }, bytesRead: 0 };
  } finally {
    await repo?.backend.close().catch(() => undefined);
  }
}

function fromPolicyResult(ctx: RunContext, started: number, result: PolicyRunResult): BackupRunRecord {
  const ref = result.snapshot;
  const summary = ref?.snapshot.summary;
  const missing = ref ? missingRoots(ref.snapshot) : [];
  let error = result.error ?? null;
  if (ref && missing.length > 0) {
    error = `the source could not be read: ${missing.map((m) => `${m.path} (${m.reason})`).join(', ')}; snapshot ${ref.id.slice(0, 8)} holds nothing of it`;
  }
  const finished = ctx.now();
  return {
    ...base(ctx, started, result.repository),
    finishedAt: finished,
    durationMs: finished - started,
    ok: result.ok && missing.length === 0,
    partial: result.partial,
    snapshotId: ref?.id ?? null,
    bytes: summary?.bytes ?? null,
    addedBytes: summary?.addedBytes ?? null,
    storedBytes: summary?.storedBytes ?? null,
    files: summary?.files ?? null,
    error: scrub(error, ctx.config),
    copies: result.copies.map((c) => ({ repository: c.repository, ok: c.ok, snapshotId: c.snapshot ?? null, error: scrub(c.error ?? null, ctx.config), durationMs: c.durationMs })),
  };
}

/**
 * Skipped entries that are a source path itself or one of its parents: the
 * source is missing or unreadable, and the snapshot has none of it. That is
 * a failed backup, not a partial one.
 */
export function missingRoots(snapshot: Snapshot): Array<{ path: string; reason: string }> {
  return snapshot.summary.skipped.filter((s) => snapshot.paths.some((root) => root === s.path || root.startsWith(s.path.endsWith('/') ? s.path : `${s.path}/`)));
}

function base(ctx: RunContext, started: number, repository: string): BackupRunRecord {
  return {
    id: ctx.id, policy: ctx.policy, kind: ctx.kind, startedAt: started, finishedAt: started, durationMs: 0, ok: false, partial: false,
    repository, snapshotId: null, bytes: null, addedBytes: null, storedBytes: null, files: null, error: null, copies: [],
  };
}

export function failedRun(ctx: RunContext, started: number, repository: string, err: unknown): BackupRunRecord {
  const finished = ctx.now();
  return { ...base(ctx, started, repository), finishedAt: finished, durationMs: finished - started, error: scrub(describe(err), ctx.config) };
}

function describe(err: unknown): string {
  return err instanceof BulwarkError ? err.describe() : errorMessage(err);
}

/** Errors are stored, logged and served by the API: no repository password may be in them. */
export function scrub(text: string | null, config: BulwarkConfig): string | null {
  if (text === null) return null;
  let out = secretRegistry.scrub(text);
  for (const repo of Object.values(config.backups?.repositories ?? {})) {
    if (repo.password && repo.password.length >= 4) out = out.split(repo.password).join('[REDACTED]');
  }
  return out;
}
