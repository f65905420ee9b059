import type { Command } from 'commander';
import { effectiveRules, type ResolvedRule, type RuleThresholds } from '../../alerting/index.js';
import { formatFinding, loadConfigFile, toTopology, type BulwarkConfig } from '../../config/index.js';
import { formatDuration, formatPercent, percentDigits, planTopology, renderPlanTable, type PlanReport } from '../../plan/index.js';
import { DEFAULT_DATA_DIR } from '../common.js';
import { EXIT } from '../exit-codes.js';
import { lastDrillRuns, measuredRows, renderMeasured } from './plan-measured.js';
import { print, printJSON } from '../output.js';

interface PlanOptions {
  config: string;
  dataDir: string;
  json?: boolean;
  color?: boolean;
}

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('model the availability the topology can reach, its downtime budgets, single points of failure and the DR strategy each tier calls for, and list the alert rules in effect')
    .requiredOption('-c, --config <file>', 'configuration file')
    .option('--json', 'print the plan as JSON')
    .option('--data-dir <dir>', 'the store whose drill runs give the measured RTO and RPO beside the modelled ones', DEFAULT_DATA_DIR)
    .option('--no-color', 'no ANSI colours (also off when stdout is not a terminal)')
    .addHelpText('after', `
Exit codes: 0 every component meets its tier, 1 a component misses its availability
target or RTO (or the model has errors), 2 unusable input.
Model: a member is up when it, its host, its zone and its region are up; members
compose in parallel, depends_on in series; zones, regions and hosts are shared failure
domains (members on one address, every loopback name being one, in one zone share a
host, whose availability is the best of its members': three members on one host are
as available as one).
Alert rules: alerting.rules when the key is there (even empty), else the defaults
that follow from the tiers and the topology; --json lists them under "alerts".`)
    .action(async (options: PlanOptions) => {
      process.exitCode = await runPlan(options);
    });
}

async function runPlan(options: PlanOptions): Promise<number> {
  const loaded = await loadConfigFile(options.config, { lint: false, unresolvedSecrets: 'warning' });
  if (!loaded.config) {
    for (const finding of loaded.findings) print(formatFinding(finding));
    return loaded.unusable ? EXIT.unusable : EXIT.findings;
  }
  const report = planTopology(toTopology(loaded.config));
  const alerts = effectiveRules(loaded.config);
  const drills = await lastDrillRuns(loaded.config, options.dataDir);
  const measured = measuredRows(loaded.config, report, drills.runs);
  if (options.json) printJSON({ file: loaded.file, ...report, alerts, measured });
  else {
    print(renderPlanTable(report, { color: options.color !== false && process.stdout.isTTY === true }).trimEnd());
    if (Object.keys(loaded.config.dr_testing).length > 0) print(`\n${renderMeasured(measured, drills.error).trimEnd()}`);
    print(`\n${renderAlertRules(alerts, loaded.config).trimEnd()}`);
  }
  return planExitCode(report);
}

const ALERT_HEADERS = ['RULE', 'WHEN', 'SEVERITY', 'FOR', 'ESCALATION', 'SUBJECTS', 'THRESHOLD'];

/** The alert rules as plain-text columns, with where they come from. */
export function renderAlertRules(rules: readonly ResolvedRule[], config: BulwarkConfig): string {
  const source = config.alerting?.rules !== undefined
    ? 'Alert rules (alerting.rules):'
    : 'Alert rules (defaults from the tiers and the topology; alerting.rules replaces them):';
  if (rules.length === 0) return `${source}\n  none\n`;
  const rows = [ALERT_HEADERS, ...rules.map((r) => [
    r.name, r.when, r.severity, r.forMs === 0 ? '-' : formatDuration(r.forMs), r.policy ?? '-',
    ruleSubjects(r) || '-', thresholdText(r.thresholds) || '-',
  ])];
  const widths = ALERT_HEADERS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
  return `${[source, ...lines].join('\n')}\n`;
}

function ruleSubjects(rule: ResolvedRule): string {
  const { services, databases, policies, zones, regions } = rule.subjects;
  return [...services, ...databases, ...policies.map((p) => `backup ${p}`), ...zones.map((z) => `zone ${z}`), ...regions.map((r) => `region ${r}`)].join(', ');
}

function perSubjectText(values: Record<string, number> | undefined, format: (n: number) => string): string[] {
  const entries = Object.entries(values ?? {});
  // `service/api` reads `api`: the subjects column already says what it is.
  return entries.map(([subject, n]) => (entries.length > 1 ? `${subject.slice(subject.indexOf('/') + 1)} ${format(n)}` : format(n)));
}

function thresholdText(t: RuleThresholds): string {
  const parts: string[] = [];
  if (t.burnRates) parts.push(t.burnRates.map((s) => `burn ≥${s.burnRate}x over ${formatDuration(s.longWindowMs)} and ${formatDuration(s.shortWindowMs)}`).join(' or '));
  parts.push(...perSubjectText(t.availability, (a) => `target ${formatPercent(a, percentDigits(a))}`));
  parts.push(...perSubjectText(t.maxAgeMs, (ms) => `newest ≤ ${formatDuration(ms)} old`));
  parts.push(...perSubjectText(t.maxLagBytes, (b) => `lag ≤ ${b} bytes`));
  parts.push(...perSubjectText(t.maxLagMs, (ms) => `lag ≤ ${formatDuration(ms)}`));
  if (t.withinMs !== undefined) parts.push(`${formatDuration(t.withinMs)} before expiry`);
  if (t.metric !== undefined) parts.push(metricText(t));
  return parts.join('; ');
}

function metricText(t: RuleThresholds): string {
  const labels = Object.entries(t.labels ?? {}).map(([k, v]) => `${k}="${v}"`).join(',');
  const bounds = [t.above !== undefined ? `> ${t.above}` : '', t.below !== undefined ? `< ${t.below}` : ''].filter(Boolean).join(' or ');
  return `${t.metric}${labels ? `{${labels}}` : ''} ${bounds}`.trim();
}

export function planExitCode(report: PlanReport): number {
  const missed = report.components.some((c) => c.meetsTarget === false || c.recovery.meetsRto === false);
  const broken = report.findings.some((f) => f.severity === 'error');
  return missed || broken ? EXIT.findings : EXIT.ok;
}
