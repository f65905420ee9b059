import type { BulwarkConfig, Schedule } from '../../config/index.js';
import type { BackupRunKind, BackupRunRecord } from '../../store/index.js';
import type { PolicyConfig } from '../policy/repos.js';

export type RunTrigger = 'schedule' | 'catch-up' | 'api' | 'change';

/** What the scheduler remembers of one policy between runs (loaded from the store at start). */
export interface PolicyState {
  last: Partial<Record<BackupRunKind, BackupRunRecord>>;
  lastSuccess: Partial<Record<BackupRunKind, BackupRunRecord>>;
  /** Repository → when the backup it latest received started. */
  copies: Map<string, number>;
  skipped: Record<BackupRunKind, number>;
}

export function emptyPolicyState(): PolicyState {
  return { last: {}, lastSuccess: {}, copies: new Map(), skipped: { backup: 0, verify: 0 } };
}

/** Fold a finished run into the state. */
export function applyRun(state: PolicyState, run: BackupRunRecord): void {
  state.last[run.kind] = run;
  if (!run.ok) return;
  state.lastSuccess[run.kind] = run;
  if (run.kind !== 'backup') return;
  state.copies.set(run.repository, run.startedAt);
  for (const copy of run.copies) if (copy.ok) state.copies.set(copy.repository, run.startedAt);
}

export interface ActiveRunView {
  id: string;
  kind: BackupRunKind;
  trigger: RunTrigger;
  queued_at: string;
  /** Null while it waits for another policy's run to finish. */
  started_at: string | null;
}

export type RunView = ReturnType<typeof runView>;

export function runView(run: BackupRunRecord) {
  return {
    id: run.id,
    policy: run.policy,
    kind: run.kind,
    started_at: iso(run.startedAt),
    finished_at: iso(run.finishedAt),
    duration_ms: run.durationMs,
    ok: run.ok,
    partial: run.partial,
    repository: run.repository,
    snapshot_id: run.snapshotId,
    bytes: run.bytes,
    added_bytes: run.addedBytes,
    stored_bytes: run.storedBytes,
    files: run.files,
    error: run.error,
    copies: run.copies.map((c) => ({ repository: c.repository, ok: c.ok, snapshot_id: c.snapshotId, error: c.error, duration_ms: c.durationMs })),
  };
}

/**
 * The RPO a policy is measured against: that of the tier of the database it
 * backs up. A file or stdin source has none.
 */
export function policyRpoMs(config: BulwarkConfig, policy: PolicyConfig): number | null {
  const database = policy.source.postgres ?? policy.source.redis;
  if (database === undefined) return null;
  const tier = config.databases[database]?.tier;
  return tier === undefined ? null : (config.sla_tiers[tier]?.rpo ?? null);
}

export interface PolicyStatusInput {
  name: string;
  policy: PolicyConfig;
  rpoMs: number | null;
  state: PolicyState;
  next: Partial<Record<BackupRunKind, number | null>>;
  running: ActiveRunView[];
  now: number;
}

export type PolicyStatus = ReturnType<typeof policyStatus>;

/** One policy as `GET /api/v1/backups` shows it. */
export function policyStatus(input: PolicyStatusInput) {
  const { policy, state, now } = input;
  const success = state.lastSuccess.backup;
  const ageMs = success ? Math.max(0, now - success.startedAt) : null;
  return {
    policy: input.name,
    source: sourceOf(policy),
    schedule: scheduleView(policy.schedule),
    next_run: isoOrNull(input.next.backup ?? null),
    running: input.running,
    last_run: state.last.backup ? runView(state.last.backup) : null,
    last_success: success ? runView(success) : null,
    rpo_ms: input.rpoMs,
    age_ms: ageMs,
    within_rpo: input.rpoMs === null ? null : ageMs !== null && ageMs <= input.rpoMs,
    skipped_runs: state.skipped.backup,
    copies: policy.copies.map((repository, i) => {
      const at = state.copies.get(repository);
      return { repository, primary: i === 0, last_success: isoOrNull(at ?? null), age_ms: at === undefined ? null : Math.max(0, now - at) };
    }),
    verify: policy.verify ? {
      schedule: scheduleView(policy.verify.schedule),
      read_data_subset: policy.verify.read_data_subset ?? null,
      next_run: isoOrNull(input.next.verify ?? null),
      last_run: state.last.verify ? runView(state.last.verify) : null,
      last_success: state.lastSuccess.verify ? runView(state.lastSuccess.verify) : null,
      skipped_runs: state.skipped.verify,
    } : null,
  };
}

function sourceOf(policy: PolicyConfig): { kind: string; name?: string; paths?: string[] } {
  const src = policy.source;
  if (src.paths) return { kind: 'paths', paths: src.paths };
  if (src.postgres) return { kind: 'postgres', name: src.postgres };
  if (src.redis) return { kind: 'redis', name: src.redis };
  return { kind: 'stdin', name: src.stdin };
}

function scheduleView(schedule: Schedule): { text: string; cron: string; timezone: string } {
  return { text: schedule.text, cron: schedule.cron, timezone: schedule.timezone };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}
