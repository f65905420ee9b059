import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { BulwarkConfig, Schedule } from '../../config/index.js';
import { BulwarkError, errorMessage } from '../../core/errors.js';
import { archiveStatus, type WalArchiveStatus } from '../policy/wal-status.js';
import type { Logger } from '../../core/logger.js';
import type { Subsystem } from '../../core/lifecycle.js';
import type { BackupRunKind, BackupRunRecord, Store } from '../../store/index.js';
import type { PolicyConfig } from '../policy/repos.js';
import { defaultExecutors, failedRun, type RunExecutor } from './execute.js';
import { loadPolicyStates, logRun } from './history.js';
import { BackupMetrics } from './metrics.js';
import { needsCatchUp, sameSchedule } from './plan.js';
import { RunQueue } from './queue.js';
import { applyRun, emptyPolicyState, policyRpoMs, policyStatus, runView, type ActiveRunView, type PolicyState, type PolicyStatus, type RunTrigger, type RunView } from './status.js';
import { ScheduleTimer } from './timer.js';
import { ChangeTrigger, watchPaths } from './change-trigger.js';

/** Backups are I/O heavy: one at a time across every policy; the others wait their turn. */
export const MAX_CONCURRENT_RUNS = 1;

export type BackupRunStore = Pick<Store, 'recordBackupRun' | 'listBackupRuns' | 'lastBackupRuns'>;

export interface BackupSchedulerOptions {
  config: BulwarkConfig;
  store: BackupRunStore;
  registry: Registry;
  log: Logger;
  now?: () => number;
  /** Replaced in tests; by default the real backup and check. */
  executors?: Partial<Record<BackupRunKind, RunExecutor>>;
}

interface Job { policy: string; kind: BackupRunKind; timer: ScheduleTimer }

/** A policy on `schedule: on change`: its trigger and file watch, rebuilt when its paths or settings change. */
interface ChangeJob { settings: string; trigger: ChangeTrigger; unwatch: Promise<() => void> }

interface ActiveRun {
  id: string;
  policy: string;
  kind: BackupRunKind;
  trigger: RunTrigger;
  queuedAt: number;
  startedAt: number | null;
  controller: AbortController;
  done: Promise<void>;
}

export type StartResult = { started: true; id: string; kind: BackupRunKind } | { started: false; running: ActiveRunView };

/**
 * Runs the backup policies of bulwark.yaml on their schedules: one run at a
 * time per policy and kind (a slot that comes while the previous run still
 * goes is skipped and counted), MAX_CONCURRENT_RUNS across all of them, a
 * slot missed while the daemon was down run once at start. Every run is
 * recorded in the store, measured, and logged.
 */
export class BackupScheduler implements Subsystem<BulwarkConfig> {
  readonly name = 'backup';
  private config: BulwarkConfig;
  private readonly jobs = new Map<string, Job>();
  private readonly changeJobs = new Map<string, ChangeJob>();
  private readonly active = new Map<string, ActiveRun>();
  private readonly states = new Map<string, PolicyState>();
  private readonly queue = new RunQueue(MAX_CONCURRENT_RUNS);
  private readonly executors: Record<BackupRunKind, RunExecutor>;
  private readonly now: () => number;
  private metrics: BackupMetrics | undefined;
  private stopping = false;

  constructor(private readonly options: BackupSchedulerOptions) {
    this.config = options.config;
    this.now = options.now ?? (() => Date.now());
    this.executors = { ...defaultExecutors, ...options.executors };
  }

  async start(): Promise<void> {
    // Started again after a stop when it is a cluster duty whose lease came back.
    this.stopping = false;
    const policies = Object.keys(this.policies());
    if (policies.length === 0) return;
    await this.loadHistory(policies);
    this.sync(true);
  }

  async stop(deadline: AbortSignal): Promise<void> {
    this.stopping = true;
    for (const job of this.jobs.values()) job.timer.stop();
    this.jobs.clear();
    for (const name of [...this.changeJobs.keys()]) this.dropChangeJob(name);
    const runs = [...this.active.values()];
    for (const run of runs) run.controller.abort(new BulwarkError('INTERNAL', 'the daemon is stopping'));
    if (runs.length > 0) this.options.log.info({ runs: runs.map((r) => `${r.policy}/${r.kind}`) }, 'aborting backup runs in flight');
    await Promise.race([Promise.allSettled(runs.map((r) => r.done)), aborted(deadline)]);
  }

  /** Added, removed and rescheduled policies take effect; other timers keep running; a run in flight finishes. */
  async reload(config: BulwarkConfig): Promise<void> {
    const before = new Set(Object.keys(this.policies()));
    this.config = config;
    const added = Object.keys(this.policies()).filter((p) => !before.has(p));
    if (added.length > 0) await this.loadHistory(added);
    this.sync(false);
  }

  /** Start a backup of `policy` now (the API's "run now"). */
  runNow(policy: string, kind: BackupRunKind = 'backup'): StartResult {
    const config = this.policy(policy);
    if (kind === 'verify' && !config.verify) throw new BulwarkError('BAD_REQUEST', `backup policy "${policy}" has no verify schedule`, { hint: `add verify: { schedule: ... } to backups.policies.${policy}` });
    if (kind === 'backup' && config.source.stdin !== undefined) throw stdinOnly(policy);
    const running = this.active.get(key(policy, kind));
    if (running) return { started: false, running: activeView(running) };
    const run = this.launch(policy, kind, 'api');
    return { started: true, id: run.id, kind };
  }

  status(): PolicyStatus[] {
    const now = this.now();
    return Object.entries(this.policies()).map(([name, policy]) => policyStatus({
      name, policy, now,
      rpoMs: policyRpoMs(this.config, policy),
      state: this.stateOf(name),
      next: { backup: this.jobs.get(key(name, 'backup'))?.timer.nextRun ?? null, verify: this.jobs.get(key(name, 'verify'))?.timer.nextRun ?? null },
      running: (['backup', 'verify'] as const).flatMap((kind) => {
        const run = this.active.get(key(name, kind));
        return run ? [activeView(run)] : [];
      }),
    }));
  }

  /** Each WAL-archiving policy's archiver, as its spool reports it (synchronous policies: mode `sync` only). */
  async walArchive(): Promise<WalArchiveStatus[]> {
    const policies = Object.entries(this.policies()).filter(([, p]) => p.wal_archiving);
    return Promise.all(policies.map(([name, policy]) => archiveStatus(name, policy, this.now())));
  }

  /** Recorded runs of a policy, newest first. */
  async history(policy: string, limit: number): Promise<RunView[]> {
    this.policy(policy);
    return (await this.options.store.listBackupRuns({ policy, limit })).map(runView);
  }

  /** Resolves once every run in flight has ended (tests). */
  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.allSettled([...this.active.values()].map((r) => r.done));
  }

  private policies(): Record<string, PolicyConfig> {
    return this.config.backups?.policies ?? {};
  }

  private policy(name: string): PolicyConfig {
    const policy = this.policies()[name];
    if (!policy) throw new BulwarkError('NOT_FOUND', `no backup policy "${name}"`, { hint: `known: ${Object.keys(this.policies()).join(', ') || 'none'}` });
    return policy;
  }

  private stateOf(policy: string): PolicyState {
    let state = this.states.get(policy);
    if (!state) this.states.set(policy, (state = emptyPolicyState()));
    return state;
  }

  /** What the store remembers of these policies: so a restart keeps metrics and status, and finds missed runs. */
  private async loadHistory(policies: string[]): Promise<void> {
    try {
      await loadPolicyStates(this.options.store, policies, (policy) => this.stateOf(policy));
    } catch (err) {
      this.options.log.error({ err: errorMessage(err) }, 'could not read backup history from the store; missed runs will not be caught up');
    }
  }

  /** Timers for what the configuration asks, keeping those whose schedule did not change. */
  private sync(atStart: boolean): void {
    if (this.stopping) return;
    const wanted = this.wantedJobs();
    for (const [k, job] of this.jobs) {
      const next = wanted.get(k);
      if (next && sameSchedule(next.schedule, job.timer.schedule)) continue;
      job.timer.stop();
      this.jobs.delete(k);
      this.options.log.info({ policy: job.policy, kind: job.kind }, next ? 'backup schedule changed' : 'backup schedule removed');
    }
    this.syncMetrics();
    const catchUp: Array<{ policy: string; kind: BackupRunKind }> = [];
    for (const [k, want] of wanted) {
      if (this.jobs.has(k)) continue;
      const timer = new ScheduleTimer(want.schedule, () => this.onDue(want.policy, want.kind), this.now);
      this.jobs.set(k, { policy: want.policy, kind: want.kind, timer });
      timer.start();
      this.options.log.info({ policy: want.policy, kind: want.kind, schedule: want.schedule.text, next: isoOrNull(timer.nextRun) }, 'backup scheduled');
      const last = this.states.get(want.policy)?.last[want.kind]?.startedAt ?? null;
      if (atStart && needsCatchUp(want.schedule, last, this.now())) catchUp.push(want);
    }
    this.syncChangeJobs();
    // Backups before verifications: the queue is first come, first served.
    catchUp.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'backup' ? -1 : 1));
    for (const run of catchUp) {
      this.options.log.info({ policy: run.policy, kind: run.kind }, 'a scheduled run was missed while the daemon was down; running it once now');
      this.launch(run.policy, run.kind, 'catch-up');
    }
  }

  /** File watches for the policies on `schedule: on change`. */
  private syncChangeJobs(): void {
    const wanted = new Map<string, PolicyConfig>(Object.entries(this.policies()).filter(([, p]) => p.schedule.onChange && p.source.paths !== undefined));
    for (const [name, job] of this.changeJobs) if (job.settings !== changeSettings(wanted.get(name))) this.dropChangeJob(name);
    for (const [name, policy] of wanted) {
      if (this.changeJobs.has(name)) continue;
      const trigger = new ChangeTrigger({
        debounceMs: policy.watch.debounce, minIntervalMs: policy.watch.min_interval, now: this.now,
        lastStart: () => this.states.get(name)?.last.backup?.startedAt ?? null,
        busy: () => this.active.has(key(name, 'backup')),
        fire: () => this.launch(name, 'backup', 'change'),
      });
      const unwatch = watchPaths(policy.source.paths!, () => trigger.changed(), (path, err) => {
        this.options.log.warn({ policy: name, path, err: err.message }, 'cannot watch a path of an "on change" policy; its daily run still catches changes');
      });
      this.changeJobs.set(name, { settings: changeSettings(policy), trigger, unwatch });
      this.options.log.info({ policy: name, paths: policy.source.paths, debounceMs: policy.watch.debounce, minIntervalMs: policy.watch.min_interval }, 'backup on change: watching');
    }
  }

  private dropChangeJob(name: string): void {
    const job = this.changeJobs.get(name);
    if (!job) return;
    this.changeJobs.delete(name);
    job.trigger.stop();
    void job.unwatch.then((stop) => stop());
  }

  private wantedJobs(): Map<string, { policy: string; kind: BackupRunKind; schedule: Schedule }> {
    const wanted = new Map<string, { policy: string; kind: BackupRunKind; schedule: Schedule }>();
    for (const [policy, config] of Object.entries(this.policies())) {
      if (config.source.stdin === undefined) wanted.set(key(policy, 'backup'), { policy, kind: 'backup', schedule: config.schedule });
      if (config.verify) wanted.set(key(policy, 'verify'), { policy, kind: 'verify', schedule: config.verify.schedule });
    }
    return wanted;
  }

  private syncMetrics(): void {
    const policies = this.policies();
    if (Object.keys(policies).length === 0 && !this.metrics) return;
    this.metrics ??= new BackupMetrics(this.options.registry, () => this.lastSuccesses(), this.now, () => this.walArchive());
    for (const name of [...this.states.keys()]) {
      if (policies[name]) continue;
      this.metrics.removePolicy(name);
      this.states.delete(name);
    }
    for (const [name, policy] of Object.entries(policies)) {
      this.metrics.addPolicy(name, policyRpoMs(this.config, policy));
      this.metrics.keepCopies(name, policy.copies);
      const state = this.stateOf(name);
      for (const run of Object.values(state.last)) if (run) this.metrics.observe(run, false);
      for (const run of Object.values(state.lastSuccess)) if (run) this.metrics.observeSuccess(run);
      for (const [repository, at] of state.copies) if (policy.copies.includes(repository)) this.metrics.copySucceeded(name, repository, at);
    }
  }

  private *lastSuccesses(): Iterable<[string, number]> {
    for (const name of Object.keys(this.policies())) {
      const success = this.states.get(name)?.lastSuccess.backup;
      if (success) yield [name, success.startedAt];
    }
  }

  private onDue(policy: string, kind: BackupRunKind): void {
    const running = this.active.get(key(policy, kind));
    if (!running) {
      this.launch(policy, kind, 'schedule');
      return;
    }
    this.stateOf(policy).skipped[kind]++;
    this.metrics?.skippedRun(policy, kind);
    this.options.log.warn({ policy, kind, running: running.id, since: new Date(running.startedAt ?? running.queuedAt).toISOString() }, 'scheduled run skipped: the previous run is still going');
  }

  private launch(policy: string, kind: BackupRunKind, trigger: RunTrigger): ActiveRun {
    const run: ActiveRun = { id: randomUUID(), policy, kind, trigger, queuedAt: this.now(), startedAt: null, controller: new AbortController(), done: Promise.resolve() };
    const k = key(policy, kind);
    this.active.set(k, run);
    run.done = this.execute(run).finally(() => {
      if (this.active.get(k) === run) this.active.delete(k);
      if (kind === 'backup') this.changeJobs.get(policy)?.trigger.runFinished();
    });
    return run;
  }

  private async execute(run: ActiveRun): Promise<void> {
    const log = this.options.log;
    let record: BackupRunRecord;
    try {
      record = await this.queue.run(() => {
        run.startedAt = this.now();
        log.info({ policy: run.policy, kind: run.kind, run: run.id, trigger: run.trigger }, `${run.kind} run started`);
        return this.executors[run.kind]({ id: run.id, policy: run.policy, kind: run.kind, config: this.config, signal: run.controller.signal, now: this.now });
      }, run.controller.signal);
    } catch (err) {
      if (run.startedAt === null) {
        log.info({ policy: run.policy, kind: run.kind, run: run.id }, `${run.kind} run cancelled before it started`);
        return;
      }
      record = failedRun({ id: run.id, policy: run.policy, kind: run.kind, config: this.config, signal: run.controller.signal, now: this.now }, run.startedAt, this.policies()[run.policy]?.copies[0] ?? '', err);
    }
    await this.finish(record);
  }

  private async finish(record: BackupRunRecord): Promise<void> {
    const policy = this.policies()[record.policy];
    if (policy) {
      const state = this.stateOf(record.policy);
      applyRun(state, record);
      this.metrics?.observe(record, true);
      this.metrics?.observeSuccess(record);
      for (const [repository, at] of state.copies) if (policy.copies.includes(repository)) this.metrics?.copySucceeded(record.policy, repository, at);
    }
    logRun(this.options.log, record);
    try {
      await this.options.store.recordBackupRun(record);
    } catch (err) {
      this.options.log.error({ policy: record.policy, run: record.id, err: errorMessage(err) }, 'could not record the backup run in the store');
    }
  }
}

function changeSettings(policy: PolicyConfig | undefined): string {
  return policy ? JSON.stringify([policy.source.paths, policy.watch]) : '';
}

function key(policy: string, kind: BackupRunKind): string {
  return `${policy}\u0000${kind}`;
}

function activeView(run: ActiveRun): ActiveRunView {
  return { id: run.id, kind: run.kind, trigger: run.trigger, queued_at: iso(run.queuedAt), started_at: run.startedAt === null ? null : iso(run.startedAt) };
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function stdinOnly(policy: string): BulwarkError {
  return new BulwarkError('BAD_REQUEST', `backup policy "${policy}" reads standard input, which the daemon cannot give`, { hint: 'run it from a pipe: ... | bulwark backup run --stdin -c bulwark.yaml --policy ' + policy });
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
