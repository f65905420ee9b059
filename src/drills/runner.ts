import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { BulwarkConfig, DrillConfig } from '../config/index.js';
import { BulwarkError, errorMessage } from '../core/errors.js';
import type { DrillRunsStore } from '../store/index.js';
import { restorationPolicies, runBackupRestoration } from './backup-restoration.js';
import type { DrillGateway, RestoreContext } from './context.js';
import { drillTarget, recommendations } from './grade.js';
import { zoneRecommendations } from './zone-report.js';
import { planRegion } from './plan-region.js';
import { isRegionDrill, regionPlan } from './region-plan.js';
import { regionRecommendations } from './region-report.js';
import type { RegionResult } from './region-drill.js';
import { RevertJournal } from './journal.js';
import { DrillLock } from './lock.js';
import { failoverGradeIssues, failoverRecommendations } from './failover-measure.js';
import { planRestoration, type PlannedStep } from './plan.js';
import { failoverDatabase, failoverTarget, isFailoverDrill, planFailover } from './plan-failover.js';
import { replayJournal } from './recover.js';
import { Timeline } from './timeline.js';
import { measuredOf, type DrillReport, type DrillTarget, type FailoverMeasurement, type PolicyMeasurement, type TimelineStep } from './types.js';
import { runZoneDrill } from './zone-drill.js';
import { experimentRecommendations, planExperiment } from './experiment/report.js';
import { runExperiment, type ExperimentMeasurement } from './experiment/run.js';
import { planZone } from './zone-plan.js';
import type { ZoneMeasurement } from './zone-types.js';

export interface DrillRunnerOptions {
  config: BulwarkConfig;
  /** Bulwark's data directory: the lock, the revert journal and (by default) the sandboxes live under `drills/` in it. */
  dataDir: string;
  store: { drillRuns: DrillRunsStore };
  /** PostgreSQL's restore_command for a policy's WAL; needed by PostgreSQL restore drills. */
  walRestoreCommand?: RestoreContext['walRestoreCommand'];
  onStep?: (step: TimelineStep) => void;
  now?: () => number;
  /** The gateway zone drills with method: disable steer (the daemon's, or a test's). */
  gateway?: DrillGateway;
}

export interface RunDrillOptions { signal?: AbortSignal }

/** The drill types that run today; the others are validated but not built. */
const RUNNABLE = new Set(['backup_restoration', 'database_failover', 'failover_testing', 'zone', 'zone_failure', 'experiment', 'full_dr_exercise']);
const isZone = (type: string): boolean => type === 'zone' || type === 'zone_failure';

/**
 * Runs drills one at a time: lock, replay what a crashed drill left, run,
 * grade, record. Everything a drill sets up is journalled before it exists.
 */
export class DrillRunner {
  readonly drillsDir: string;
  private readonly journal: RevertJournal;
  private readonly now: () => number;

  constructor(private readonly options: DrillRunnerOptions) {
    this.drillsDir = join(resolve(options.dataDir), 'drills');
    this.journal = RevertJournal.in(this.drillsDir);
    this.now = options.now ?? Date.now;
  }

  /** A drill from dr_testing with its type, refused when unknown or not built yet. */
  drill(name: string): { drill: DrillConfig; type: string } {
    const drill = this.options.config.dr_testing[name];
    if (!drill) {
      const known = Object.keys(this.options.config.dr_testing);
      throw new BulwarkError('USAGE', `dr_testing has no drill "${name}"`, { hint: known.length ? `known: ${known.join(', ')}` : 'declare drills under dr_testing in bulwark.yaml' });
    }
    const type = drill.type ?? name;
    if (!RUNNABLE.has(type)) throw new BulwarkError('USAGE', `drill "${name}" is of type ${type}, which bulwark cannot run yet`, { hint: 'backup_restoration, database_failover, zone (zone_failure), full_dr_exercise (region) and experiment drills run today; the other types are validated only' });
    if (isFailoverDrill(type)) failoverDatabase(this.options.config, drill.database);
    if (isRegionDrill(type)) regionPlan(this.options.config, drill, name);
    return { drill, type };
  }

  /** `--dry-run`: the steps and what each would touch. */
  plan(name: string): PlannedStep[] {
    const { drill, type } = this.drill(name);
    if (isFailoverDrill(type)) {
      const database = failoverDatabase(this.options.config, drill.database);
      return planFailover(this.options.config, drill, this.drillsDir, database, failoverTarget(this.options.config, drill, database));
    }
    if (isZone(type)) return planZone(this.options.config, drill, name, this.drillsDir);
    if (type === 'experiment') return planExperiment(this.options.config, drill, this.drillsDir);
    if (isRegionDrill(type)) return planRegion(this.options.config, drill, name, this.drillsDir);
    const target = drillTarget(this.options.config, drill, restorationPolicies(this.options.config, drill));
    return planRestoration(this.options.config, drill, this.drillsDir, this.sandboxRoot(drill), target);
  }

  /** At start: revert and record what a crashed drill left. Takes the lock, so a running drill is never reverted under it. */
  async recover(): Promise<DrillReport | undefined> {
    await mkdir(this.drillsDir, { recursive: true });
    const lock = await DrillLock.acquire(this.drillsDir, '(recovery)');
    try {
      return await replayJournal(this.journal, this.options.store, this.now, { config: this.options.config });
    } finally {
      await lock.release();
    }
  }

  async run(name: string, options: RunDrillOptions = {}): Promise<DrillReport> {
    const { drill, type } = this.drill(name);
    await mkdir(this.drillsDir, { recursive: true });
    const lock = await DrillLock.acquire(this.drillsDir, name);
    try {
      const left = await replayJournal(this.journal, this.options.store, this.now, { config: this.options.config });
      // What could not be reverted stays journalled; a new run would overwrite the journal and forget it.
      if (left && left.timeline[0]?.ok === false) {
        throw new BulwarkError('BAD_REQUEST', `drill run ${left.id.slice(0, 8)} (${left.drill}) left what could not be reverted: ${left.issues.slice(1).join('; ')}`, {
          hint: `revert it by hand (or bring back what it waits for), then run again; it stays in ${this.journal.path}`,
        });
      }
      return await this.runLocked(name, drill, type, options);
    } finally {
      await lock.release();
    }
  }

  private async runLocked(name: string, drill: DrillConfig, type: string, options: RunDrillOptions): Promise<DrillReport> {
    const id = randomUUID();
    const startedAt = this.now();
    const signal = withTimeout(options.signal, drill.timeout_minutes);
    const timeline = new Timeline(this.options.onStep);
    await this.journal.begin({ id, drill: name, type, startedAt });
    const ctx: RestoreContext = {
      config: this.options.config, drill, journal: this.journal, timeline, sandboxRoot: this.sandboxRoot(drill), runId: id, startedAt, signal,
      walRestoreCommand: this.options.walRestoreCommand, gateway: this.options.gateway,
    };
    const failover = isFailoverDrill(type);
    let target: DrillTarget = failover ? failoverTarget(this.options.config, drill, failoverDatabase(this.options.config, drill.database))
      : isRegionDrill(type) ? regionPlan(this.options.config, drill, name).target
      : isZone(type) || type === 'experiment' ? {} : drillTarget(this.options.config, drill, restorationPolicies(this.options.config, drill));
    let policies: PolicyMeasurement[] = [];
    let measured: FailoverMeasurement | undefined;
    let zone: ZoneMeasurement | undefined;
    let region: RegionResult | undefined;
    let experiment: ExperimentMeasurement | undefined;
    let abortedBy: string | undefined;
    try {
      // Loaded on use: the failover drill brings postgres-ha and the pg client.
      if (failover) measured = await (await import('./database-failover.js')).runDatabaseFailover(ctx, target);
      else if (isRegionDrill(type)) {
        region = await (await import('./region-drill.js')).runRegionDrill(ctx, name);
        if (region.stop) abortedBy = `aborted by its stop condition: ${region.stop.reason}; every fault reverted ${region.stop.breachToRevertMs} ms after the breach`;
      }
      else if (isZone(type)) {
        zone = await runZoneDrill(ctx, name);
        target = zone.target;
        if (zone.stop) abortedBy = `aborted by its stop condition: ${zone.stop.reason}; every fault reverted ${zone.stop.breachToRevertMs} ms after the breach`;
      } else if (type === 'experiment') experiment = await runExperiment(ctx, name);
      else policies = await runBackupRestoration(ctx, target);
    } catch (err) {
      abortedBy = abortReason(err, signal, options.signal, drill.timeout_minutes);
    }
    if (region) ({ failover: measured, policies } = region);
    const report = this.report({ id, drill: name, type, startedAt, target, notes: notesOf(drill), timeline: timeline.steps, policies, ...(failover || measured ? { failover: measured } : {}), zone, experiment, region: region?.region, abortedBy });
    // What could not be torn down stays journalled: the next start tries again.
    if (this.journal.pending.length === 0) await this.journal.clear();
    else report.issues.push(`not torn down, left for the next start to revert: ${JSON.stringify(this.journal.pending)}`);
    await this.options.store.drillRuns.record({ id, drill: name, type, startedAt, finishedAt: report.finishedAt, outcome: report.outcome, measured: measuredOf(report), report });
    return report;
  }

  private report(r: Omit<DrillReport, 'outcome' | 'finishedAt' | 'issues' | 'recommendations'> & { abortedBy?: string }): DrillReport {
    const { abortedBy, ...rest } = r;
    if (r.region) {
      const issues = [...(abortedBy ? [abortedBy] : []), ...r.region.problems];
      return { ...rest, outcome: abortedBy ? 'aborted' : r.region.passed ? 'passed' : 'failed', finishedAt: this.now(), issues, recommendations: regionRecommendations(r.target, r.region) };
    }
    if (isFailoverDrill(r.type)) return { ...rest, ...failoverOutcome(r.failover, abortedBy), finishedAt: this.now(), recommendations: failoverRecommendations(r.target, r.failover) };
    const issues = [...(abortedBy ? [abortedBy] : []), ...r.policies.flatMap((p) => p.problems.map((x) => `${p.policy}: ${x}`)), ...gradeIssues(r.policies)];
    if (r.type === 'experiment') return experimentReport(rest, issues, abortedBy, this.now());
    if (r.zone) return { ...rest, outcome: abortedBy ? 'aborted' : r.zone.passed ? 'passed' : 'failed', finishedAt: this.now(), issues: [...issues, ...r.zone.problems], recommendations: zoneRecommendations(r.target, r.zone) };
    const outcome = abortedBy ? 'aborted' : r.policies.every((p) => p.passed) && r.policies.length > 0 ? 'passed' : 'failed';
    if (r.policies.length === 0 && !abortedBy && !isZone(r.type)) issues.push('no backup policy to restore: declare one under backups.policies');
    return { ...rest, outcome, finishedAt: this.now(), issues, recommendations: recommendations(r.target, r.policies) };
  }

  private sandboxRoot(drill: DrillConfig): string {
    return drill.sandbox !== undefined ? resolve(drill.sandbox) : join(this.drillsDir, 'sandboxes');
  }
}

function experimentReport(rest: Omit<DrillReport, 'outcome' | 'finishedAt' | 'issues' | 'recommendations'>, issues: string[], abortedBy: string | undefined, finishedAt: number): DrillReport {
  const e = rest.experiment;
  const outcome = abortedBy || !e || e.verdict === 'not-steady' ? 'aborted' : e.passed ? 'passed' : 'failed';
  return { ...rest, outcome, finishedAt, issues: [...issues, ...(e?.problems ?? [])], recommendations: e ? experimentRecommendations(e) : [] };
}

function failoverOutcome(f: FailoverMeasurement | undefined, abortedBy: string | undefined): Pick<DrillReport, 'outcome' | 'issues'> {
  const issues = [...(abortedBy ? [abortedBy] : []), ...(f ? [...f.problems, ...failoverGradeIssues(f)] : [])];
  return { outcome: abortedBy || !f ? 'aborted' : f.passed ? 'passed' : 'failed', issues };
}

function gradeIssues(policies: readonly PolicyMeasurement[]): string[] {
  return policies.flatMap((p) => [
    ...(p.rto?.passed === false ? [`${p.policy}: RTO missed by ${-p.rto.marginMs!} ms (${p.rto.measuredMs} ms against ${p.rto.targetMs} ms)`] : []),
    ...(p.rpo?.passed === false ? [`${p.policy}: RPO missed by ${-p.rpo.marginMs!} ms (restore point ${p.rpo.measuredMs} ms old against ${p.rpo.targetMs} ms)`] : []),
  ]);
}

function abortReason(err: unknown, signal: AbortSignal | undefined, caller: AbortSignal | undefined, minutes: number | undefined): string {
  if (!signal?.aborted) return `the drill stopped: ${err instanceof BulwarkError ? err.describe() : errorMessage(err)}`;
  return minutes !== undefined && !caller?.aborted ? `the drill ran past its timeout of ${minutes} min` : 'the drill was interrupted';
}

function notesOf(drill: DrillConfig): Record<string, string> {
  const notes: Record<string, string> = {};
  for (const key of ['scope', 'validation', 'rollback', 'stakeholders', 'duration'] as const) if (drill[key] !== undefined) notes[key] = drill[key];
  return notes;
}

function withTimeout(signal: AbortSignal | undefined, minutes: number | undefined): AbortSignal | undefined {
  const signals = [signal, minutes === undefined ? undefined : AbortSignal.timeout(minutes * 60_000)].filter((s): s is AbortSignal => s !== undefined);
  return signals.length === 0 ? undefined : AbortSignal.any(signals);
}
