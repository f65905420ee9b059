import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { longestGapMs, type BulwarkConfig } from '../../config/index.js';
import { errorMessage } from '../../core/errors.js';
import type { DrillReport } from '../../drills/index.js';
import { formatDuration, type PlanReport } from '../../plan/index.js';
import { openStore, SQLITE_FILE_NAME, type DrillRunRecord } from '../../store/index.js';

/** The last graded drill of a policy: what it measured beside what the plan models. */
export interface MeasuredRow {
  drill: string;
  policy: string;
  database: string | null;
  tier: string | null;
  run: string;
  at: string;
  outcome: string;
  rto: { modelledMs: number | null; measuredMs: number | null; targetMs: number | null };
  rpo: { modelledMs: number | null; measuredMs: number | null; targetMs: number | null };
}

/**
 * The newest graded run of each drill in the store (the daemon's, or the
 * one `--data-dir` names); none when there is no store yet: `plan` never
 * creates one.
 */
export async function lastDrillRuns(config: BulwarkConfig, dataDir: string): Promise<{ runs: DrillRunRecord[]; error?: string }> {
  if (!config.store?.postgres && !existsSync(join(resolve(dataDir), SQLITE_FILE_NAME))) return { runs: [] };
  try {
    const store = await openStore({ dataDir: resolve(dataDir), postgres: config.store?.postgres });
    try {
      await store.migrate();
      const runs = await Promise.all(Object.keys(config.dr_testing).map(async (drill) => (await store.drillRuns.list({ drill, limit: 20 })).find((r) => r.outcome !== 'aborted')));
      return { runs: runs.filter((r): r is DrillRunRecord => r !== undefined) };
    } finally {
      await store.close();
    }
  } catch (err) {
    return { runs: [], error: `could not read the drill runs: ${errorMessage(err)}` };
  }
}

/** One row per policy a drill restored: measured RTO/RPO, the plan's modelled recovery and the backup schedule's longest gap. */
export function measuredRows(config: BulwarkConfig, plan: PlanReport, runs: readonly DrillRunRecord[]): MeasuredRow[] {
  return runs.flatMap((run) => {
    const report = run.report as DrillReport;
    if (report.region) return [regionRow(plan, run, report)];
    return (report.policies ?? []).map((p) => {
      const policy = config.backups?.policies[p.policy];
      const database = policy?.source.postgres ?? null;
      const component = database === null ? undefined : plan.components.find((c) => c.kind === 'database' && c.name === database);
      const gap = policy && !policy.wal_archiving ? longestGapMs(policy.schedule) : null;
      return {
        drill: run.drill, policy: p.policy, database, tier: report.target?.tier ?? null, run: run.id, at: new Date(run.startedAt).toISOString(), outcome: run.outcome,
        rto: { modelledMs: component?.recovery.estimatedRecoveryMs ?? null, measuredMs: p.rto?.measuredMs ?? null, targetMs: p.rto?.targetMs ?? null },
        rpo: { modelledMs: gap !== null && Number.isFinite(gap) ? gap : null, measuredMs: p.rpo?.measuredMs ?? null, targetMs: p.rpo?.targetMs ?? null },
      };
    });
  });
}

/** A region drill: one row for the region lost, its database's modelled recovery beside the end-to-end RTO measured. */
function regionRow(plan: PlanReport, run: DrillRunRecord, report: DrillReport): MeasuredRow {
  const r = report.region!;
  const component = plan.components.find((c) => (r.database !== undefined ? c.kind === 'database' && c.name === r.database : c.name === r.services[0]?.service));
  return {
    drill: run.drill, policy: `region ${r.region} → ${r.drRegion}`, database: r.database ?? null, tier: report.target?.tier ?? null, run: run.id, at: new Date(run.startedAt).toISOString(), outcome: run.outcome,
    rto: { modelledMs: component?.recovery.estimatedRecoveryMs ?? null, measuredMs: r.rto?.measuredMs ?? null, targetMs: r.rto?.targetMs ?? null },
    rpo: { modelledMs: null, measuredMs: r.rpo?.measuredMs ?? null, targetMs: r.rpo?.targetMs ?? null },
  };
}

const HEADERS = ['DRILL', 'RESTORES', 'TIER', 'RTO MODELLED', 'RTO MEASURED', 'RPO MODELLED', 'RPO MEASURED', 'LAST RUN'];

/** The measured figures as plain-text columns, each beside the modelled one and its target. */
export function renderMeasured(rows: readonly MeasuredRow[], error?: string): string {
  const title = 'Measured by drills (the newest graded run of each; modelled RTO: the plan\'s recovery estimate, modelled RPO: the backup schedule\'s longest gap):';
  if (error) return `${title}\n  ${error}\n`;
  if (rows.length === 0) return `${title}\n  no drill run recorded yet: bulwark drill run NAME, or dr_testing schedules under bulwark up\n`;
  const d = (ms: number | null): string => (ms === null ? '-' : ms < 1000 ? `${ms}ms` : formatDuration(ms));
  const against = (ms: number | null, target: number | null): string => (ms === null ? '-' : `${d(ms)}${target === null ? '' : ` / ${d(target)} ${ms <= target ? 'ok' : 'MISSED'}`}`);
  const table = [HEADERS, ...rows.map((r) => [
    r.drill, r.database === null ? (r.policy.startsWith('region ') ? r.policy : `policy ${r.policy}`) : `${r.database} (${r.policy})`, r.tier ?? '-',
    d(r.rto.modelledMs), against(r.rto.measuredMs, r.rto.targetMs), d(r.rpo.modelledMs), against(r.rpo.measuredMs, r.rpo.targetMs),
    `${r.at.slice(0, 16).replace('T', ' ')} ${r.outcome}`,
  ])];
  const widths = HEADERS.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return `${[title, ...table.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))].join('\n')}\n`;
}
