import { Counter, Gauge, type Registry } from 'prom-client';
import type { BackupRunKind, BackupRunRecord } from '../../store/index.js';
import type { WalArchiveStatus } from '../policy/wal-status.js';

export type RunResult = 'ok' | 'partial' | 'failed';

export function resultOf(run: BackupRunRecord): RunResult {
  if (!run.ok) return 'failed';
  return run.partial ? 'partial' : 'ok';
}

/**
 * Backup metrics. Times of a successful backup are when its run started:
 * the data in a snapshot is at least that old, so an alert on
 * `time() - bulwark_backup_last_success_timestamp_seconds > rpo` never fires late.
 */
export class BackupMetrics {
  private readonly lastSuccess: Gauge<'policy'>;
  private readonly lastDuration: Gauge<'policy'>;
  private readonly lastRunSuccess: Gauge<'policy'>;
  private readonly runs: Counter<'policy' | 'result'>;
  private readonly lastSize: Gauge<'policy'>;
  private readonly rpo: Gauge<'policy'>;
  private readonly copyLastSuccess: Gauge<'policy' | 'repository'>;
  private readonly skipped: Counter<'policy' | 'kind'>;
  private readonly verifyLastSuccess: Gauge<'policy'>;
  private readonly verifyLastRunSuccess: Gauge<'policy'>;
  /** Repositories with a copy series, per policy: removing a policy removes them. */
  private readonly copySeries = new Map<string, Set<string>>();

  /** `lastSuccesses` gives, at scrape time, when each policy's latest successful backup started. */
  constructor(registry: Registry, lastSuccesses: () => Iterable<[policy: string, startedAt: number]>, now: () => number, walStatuses: () => Promise<WalArchiveStatus[]> = async () => []) {
    const registers = [registry];
    registerWalGauges(registers, walStatuses);
    this.lastSuccess = new Gauge({ name: 'bulwark_backup_last_success_timestamp_seconds', help: 'When the latest successful backup of the policy started (its data is at least this old)', labelNames: ['policy'], registers });
    this.lastDuration = new Gauge({ name: 'bulwark_backup_last_run_duration_seconds', help: 'Duration of the latest backup run of the policy', labelNames: ['policy'], registers });
    this.lastRunSuccess = new Gauge({ name: 'bulwark_backup_last_run_success', help: 'Whether the latest backup run of the policy succeeded: 1 yes (partial included), 0 no', labelNames: ['policy'], registers });
    this.runs = new Counter({ name: 'bulwark_backup_runs_total', help: 'Backup runs by result (ok, partial, failed)', labelNames: ['policy', 'result'], registers });
    this.lastSize = new Gauge({ name: 'bulwark_backup_last_size_bytes', help: 'Bytes of source data in the latest successful backup of the policy', labelNames: ['policy'], registers });
    const age = new Gauge({
      name: 'bulwark_backup_age_seconds', help: 'Seconds since the latest successful backup of the policy started', labelNames: ['policy'], registers,
      collect: () => {
        age.reset();
        for (const [policy, startedAt] of lastSuccesses()) age.set({ policy }, Math.max(0, now() - startedAt) / 1000);
      },
    });
    this.rpo = new Gauge({ name: 'bulwark_backup_rpo_seconds', help: 'The recovery point objective the policy serves (the RPO of its database\'s tier)', labelNames: ['policy'], registers });
    this.copyLastSuccess = new Gauge({ name: 'bulwark_backup_copy_last_success_timestamp_seconds', help: 'When the backup latest held by each repository of the policy started', labelNames: ['policy', 'repository'], registers });
    this.skipped = new Counter({ name: 'bulwark_backup_runs_skipped_total', help: 'Scheduled runs skipped because the previous run of the same policy was still going', labelNames: ['policy', 'kind'], registers });
    this.verifyLastSuccess = new Gauge({ name: 'bulwark_backup_verify_last_success_timestamp_seconds', help: 'When the latest successful verification of the policy\'s repositories started', labelNames: ['policy'], registers });
    this.verifyLastRunSuccess = new Gauge({ name: 'bulwark_backup_verify_last_run_success', help: 'Whether the latest verification of the policy\'s repositories found no error: 1 yes, 0 no', labelNames: ['policy'], registers });
  }

  /** Series a policy has from the start, so rate() and absent() work before its first run. */
  addPolicy(policy: string, rpoMs: number | null): void {
    for (const result of ['ok', 'partial', 'failed'] as const) this.runs.inc({ policy, result }, 0);
    for (const kind of ['backup', 'verify'] as const) this.skipped.inc({ policy, kind }, 0);
    if (rpoMs === null) this.rpo.remove({ policy });
    else this.rpo.set({ policy }, rpoMs / 1000);
  }

  removePolicy(policy: string): void {
    for (const gauge of [this.lastSuccess, this.lastDuration, this.lastRunSuccess, this.lastSize, this.rpo, this.verifyLastSuccess, this.verifyLastRunSuccess]) gauge.remove({ policy });
    for (const result of ['ok', 'partial', 'failed'] as const) this.runs.remove({ policy, result });
    for (const kind of ['backup', 'verify'] as const) this.skipped.remove({ policy, kind });
    for (const repository of this.copySeries.get(policy) ?? []) this.copyLastSuccess.remove({ policy, repository });
    this.copySeries.delete(policy);
  }

  /** Drops the copy series of repositories the policy no longer copies to. */
  keepCopies(policy: string, repositories: readonly string[]): void {
    const series = this.copySeries.get(policy);
    for (const repository of series ?? []) {
      if (repositories.includes(repository)) continue;
      this.copyLastSuccess.remove({ policy, repository });
      series?.delete(repository);
    }
  }

  /** A finished run; also used at start with the runs the store remembers (`count: false`). */
  observe(run: BackupRunRecord, count: boolean): void {
    const policy = run.policy;
    if (run.kind === 'verify') {
      this.verifyLastRunSuccess.set({ policy }, run.ok ? 1 : 0);
      return;
    }
    if (count) this.runs.inc({ policy, result: resultOf(run) });
    this.lastDuration.set({ policy }, run.durationMs / 1000);
    this.lastRunSuccess.set({ policy }, run.ok ? 1 : 0);
  }

  /** The latest successful run of its kind. */
  observeSuccess(run: BackupRunRecord): void {
    if (!run.ok) return;
    if (run.kind === 'verify') {
      this.verifyLastSuccess.set({ policy: run.policy }, run.startedAt / 1000);
      return;
    }
    this.lastSuccess.set({ policy: run.policy }, run.startedAt / 1000);
    if (run.bytes !== null) this.lastSize.set({ policy: run.policy }, run.bytes);
  }

  copySucceeded(policy: string, repository: string, startedAt: number): void {
    this.copyLastSuccess.set({ policy, repository }, startedAt / 1000);
    if (!this.copySeries.has(policy)) this.copySeries.set(policy, new Set());
    this.copySeries.get(policy)?.add(repository);
  }

  skippedRun(policy: string, kind: BackupRunKind): void {
    this.skipped.inc({ policy, kind });
  }
}

/** The asynchronous WAL archivers' own report (their spool's status.json), read at scrape time. */
function registerWalGauges(registers: Registry[], walStatuses: () => Promise<WalArchiveStatus[]>): void {
  const specs = [
    ['bulwark_wal_archive_pending_files', 'WAL files PostgreSQL marked ready that the asynchronous archiver has not stored in every repository yet', (s: WalArchiveStatus) => s.pending],
    ['bulwark_wal_archive_lag_seconds', 'How long the oldest waiting WAL file has waited: the data a loss of the database host now would cost beyond the archive', (s: WalArchiveStatus) => s.lagSeconds],
    ['bulwark_wal_archive_failing', 'Whether the last attempt to archive a WAL file failed and none succeeded since: 1 yes, 0 no', (s: WalArchiveStatus) => (s.failing ? 1 : 0)],
    ['bulwark_wal_archive_last_success_timestamp_seconds', 'When the asynchronous archiver last stored a WAL file in every repository', (s: WalArchiveStatus) => (s.lastArchivedAt ? Date.parse(s.lastArchivedAt) / 1000 : null)],
  ] as const;
  let pending: Promise<WalArchiveStatus[]> | undefined;
  // One read of the spools per scrape, shared by the four gauges.
  const read = (): Promise<WalArchiveStatus[]> => (pending ??= walStatuses().finally(() => setImmediate(() => { pending = undefined; })));
  for (const [name, help, value] of specs) {
    const gauge: Gauge<'policy'> = new Gauge({
      name, help, labelNames: ['policy'], registers,
      collect: async () => {
        gauge.reset();
        for (const status of await read()) {
          const v = status.mode === 'async' ? value(status) : null;
          if (v !== null) gauge.set({ policy: status.policy }, v);
        }
      },
    });
  }
}
