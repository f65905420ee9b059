import { fmt } from './grade.js';
import { isFailoverDrill } from './plan-failover.js';
import { failoverTable } from './report-failover.js';
import { zoneMeasurementTable } from './zone-report.js';
import { experimentTable } from './experiment/report.js';
import { regionTable } from './region-report.js';
import type { DrillReport, Graded, PolicyMeasurement, TimelineStep } from './types.js';

/** The report as JSON: the stored object, indented. */
export function reportJson(report: DrillReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** The report as Markdown: execution log, measurements against targets, issues found, recommendations. */
export function reportMarkdown(report: DrillReport): string {
  const lines = [
    `# Drill ${report.drill}: ${report.outcome.toUpperCase()}`,
    '',
    `- type: ${report.type}`,
    `- run: ${report.id}`,
    `- started ${new Date(report.startedAt).toISOString()}, finished ${new Date(report.finishedAt).toISOString()} (${fmt(report.finishedAt - report.startedAt)})`,
    `- graded against: ${report.target.tier === undefined ? 'no tier (measured only)' : `tier ${report.target.tier}, RTO ${fmt(report.target.rtoMs!)}, RPO ${fmt(report.target.rpoMs!)}`}`,
    ...Object.entries(report.notes).map(([k, v]) => `- ${k}: ${v}`),
    '', '## Measurements against targets', '',
    ...(report.region ? regionTable(report.region, report.failover) : isFailoverDrill(report.type) ? failoverTable(report.failover) : report.experiment ? experimentTable(report.experiment) : report.zone ? zoneMeasurementTable(report.zone) : measurementTable(report.policies)),
    '', '## Execution log', '',
    '| time (UTC) | step | subject | duration | result |', '|---|---|---|---|---|',
    ...report.timeline.map(logRow),
    '', '## Issues found', '',
    ...bullets(report.issues, 'none'),
    '', '## Recommendations', '',
    ...bullets(report.recommendations, 'none'),
  ];
  return `${lines.join('\n')}\n`;
}

function measurementTable(policies: readonly PolicyMeasurement[]): string[] {
  if (policies.length === 0) return ['nothing was restored'];
  return [
    '| policy | source | restore point | RTO measured | RTO target | RPO measured | RPO target | validation | result |',
    '|---|---|---|---|---|---|---|---|---|',
    ...policies.map((p) => `| ${p.policy} | ${p.source} | ${p.restorePoint ?? '-'} | ${p.rto ? fmt(p.rto.measuredMs) : '-'} | ${target(p.rto)} | ${p.rpo ? fmt(p.rpo.measuredMs) : '-'} | ${target(p.rpo)} | ${validation(p)} | ${p.passed ? 'pass' : 'FAIL'} |`),
  ];
}

function target(g: Graded | undefined): string {
  if (g?.targetMs === undefined) return '-';
  const margin = g.marginMs! >= 0 ? `${fmt(g.marginMs!)} to spare` : `missed by ${fmt(-g.marginMs!)}`;
  return `${fmt(g.targetMs)} (${margin})`;
}

function validation(p: PolicyMeasurement): string {
  const counts = p.rowCounts ? Object.entries(p.rowCounts).map(([q, n]) => `${q.replace(/\|/g, '\\|')} = ${n}`) : [];
  const files = p.files === undefined ? [] : [`${p.files} files, ${p.bytes} bytes`];
  const all = [...files, ...counts, p.problems.length ? `${p.problems.length} problem(s)` : 'ok'];
  return all.join('; ');
}

function logRow(s: TimelineStep): string {
  return `| ${new Date(s.startedAt).toISOString().slice(11, 23)} | ${s.step} | ${s.subject ?? ''} | ${fmt(s.durationMs)} | ${s.ok ? 'ok' : 'FAILED'}${s.detail ? `: ${s.detail.replace(/\|/g, '\\|')}` : ''} |`;
}

function bullets(items: readonly string[], none: string): string[] {
  return items.length === 0 ? [none] : items.map((i) => `- ${i}`);
}
