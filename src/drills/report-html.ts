import { fmt } from './grade.js';
import type { DrillReport, Graded, PolicyMeasurement, TimelineStep } from './types.js';

/** Escapes text for HTML element content and quoted attributes. */
export function esc(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:980px;padding:0 1rem;color:#1f2328}
h1 .passed{color:#1a7f37}h1 .failed{color:#cf222e}h1 .aborted{color:#9a6700}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.fail{color:#cf222e;font-weight:600}td.pass{color:#1a7f37}
svg text{font:11px system-ui,sans-serif;fill:#1f2328}ul{padding-left:1.2rem}`;

/**
 * The report as one HTML page with no external assets and no scripts: the
 * timeline as an inline SVG chart, then measurements against targets, the
 * execution log, issues found and recommendations.
 */
export function reportHtml(report: DrillReport): string {
  const meta = [
    ['type', report.type], ['run', report.id],
    ['started', new Date(report.startedAt).toISOString()], ['finished', `${new Date(report.finishedAt).toISOString()} (${fmt(report.finishedAt - report.startedAt)})`],
    ['graded against', report.target.tier === undefined ? 'no tier (measured only)' : `tier ${report.target.tier}: RTO ${fmt(report.target.rtoMs!)}, RPO ${fmt(report.target.rpoMs!)}`],
    ...Object.entries(report.notes),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drill ${esc(report.drill)}: ${esc(report.outcome)}</title>
<style>${STYLE}</style></head><body>
<h1>Drill ${esc(report.drill)}: <span class="${esc(report.outcome)}">${esc(report.outcome.toUpperCase())}</span></h1>
<table>${meta.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<h2>Timeline</h2>
${timelineSvg(report)}
<h2>Measurements against targets</h2>
${measurements(report.policies)}
<h2>Execution log</h2>
${executionLog(report.timeline)}
<h2>Issues found</h2>
${list(report.issues)}
<h2>Recommendations</h2>
${list(report.recommendations)}
</body></html>
`;
}

const ROW = 22;
const LABEL = 170;
const WIDTH = 940;
const COLORS: Record<string, string> = { fetch: '#54aeff', restore: '#0969da', start: '#8250df', validate: '#1a7f37', teardown: '#8c959f', recover: '#9a6700' };

/** One bar per step, placed by its start and length on a shared time axis; failed steps in red, the RTO target as a dashed line. */
export function timelineSvg(report: DrillReport): string {
  const steps = report.timeline;
  if (steps.length === 0) return '<p>no step was recorded</p>';
  const origin = Math.min(report.startedAt, ...steps.map((s) => s.startedAt));
  const end = Math.max(report.finishedAt, ...steps.map((s) => s.startedAt + s.durationMs));
  const target = report.target.rtoMs;
  const span = Math.max(1, end - origin, target !== undefined && target < (end - origin) * 3 ? target : 0);
  const plot = WIDTH - LABEL - 10;
  const x = (ms: number): number => LABEL + (ms / span) * plot;
  const height = steps.length * ROW + 30;
  const bars = steps.map((s, i) => {
    const y = i * ROW + 4;
    const w = Math.max(2, (s.durationMs / span) * plot);
    const color = s.ok ? (COLORS[s.step] ?? '#0969da') : '#cf222e';
    const label = `${s.step}${s.subject ? ` ${s.subject}` : ''}`;
    return `<text x="4" y="${y + 14}">${esc(label.slice(0, 28))}</text>` +
      `<rect x="${x(s.startedAt - origin).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${ROW - 6}" fill="${color}"><title>${esc(`${label}: ${fmt(s.durationMs)}${s.ok ? '' : ' FAILED'}${s.detail ? ` (${s.detail})` : ''}`)}</title></rect>`;
  });
  const axisY = steps.length * ROW + 8;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<line x1="${x(f * span)}" y1="0" x2="${x(f * span)}" y2="${axisY}" stroke="#d0d7de"/><text x="${x(f * span) - (f === 1 ? 30 : 0)}" y="${axisY + 16}">${esc(fmt(f * span))}</text>`);
  const rto = target !== undefined && target <= span
    ? `<line x1="${x(target)}" y1="0" x2="${x(target)}" y2="${axisY}" stroke="#cf222e" stroke-dasharray="4 3"/><text x="${x(target) + 3}" y="${axisY - 4}" style="fill:#cf222e">RTO target</text>`
    : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="drill timeline">${ticks.join('')}${bars.join('')}${rto}</svg>`;
}

function measurements(policies: readonly PolicyMeasurement[]): string {
  if (policies.length === 0) return '<p>nothing was restored</p>';
  const rows = policies.map((p) => `<tr><td>${esc(p.policy)}</td><td>${esc(p.source)}</td><td>${esc(p.restorePoint ?? '-')}</td>` +
    `${figure(p.rto)}${figure(p.rpo)}<td>${esc(phases(p))}</td><td>${esc(validation(p))}</td><td class="${p.passed ? 'pass' : 'fail'}">${p.passed ? 'pass' : 'FAIL'}</td></tr>`);
  return `<table><tr><th>policy</th><th>source</th><th>restore point</th><th>RTO measured</th><th>RTO target</th><th>RPO measured</th><th>RPO target</th><th>phases</th><th>validation</th><th>result</th></tr>${rows.join('')}</table>`;
}

function figure(g: Graded | undefined): string {
  if (!g) return '<td>-</td><td>-</td>';
  if (g.targetMs === undefined) return `<td>${esc(fmt(g.measuredMs))}</td><td>-</td>`;
  const margin = g.marginMs! >= 0 ? `${fmt(g.marginMs!)} to spare` : `missed by ${fmt(-g.marginMs!)}`;
  return `<td class="${g.passed ? 'pass' : 'fail'}">${esc(fmt(g.measuredMs))}</td><td>${esc(`${fmt(g.targetMs)} (${margin})`)}</td>`;
}

function phases(p: PolicyMeasurement): string {
  return Object.entries(p.phasesMs).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || '-';
}

function validation(p: PolicyMeasurement): string {
  const counts = p.rowCounts ? Object.entries(p.rowCounts).map(([q, n]) => `${q} = ${n}`) : [];
  const files = p.files === undefined ? [] : [`${p.files} files, ${p.bytes} bytes`];
  return [...files, ...counts, p.problems.length ? p.problems.join('; ') : 'ok'].join('; ');
}

function executionLog(steps: readonly TimelineStep[]): string {
  const rows = steps.map((s) => `<tr><td>${new Date(s.startedAt).toISOString().slice(11, 23)}</td><td>${esc(s.step)}</td><td>${esc(s.subject ?? '')}</td>` +
    `<td>${esc(fmt(s.durationMs))}</td><td class="${s.ok ? 'pass' : 'fail'}">${s.ok ? 'ok' : 'FAILED'}${s.detail ? `: ${esc(s.detail)}` : ''}</td></tr>`);
  return `<table><tr><th>time (UTC)</th><th>step</th><th>subject</th><th>duration</th><th>result</th></tr>${rows.join('')}</table>`;
}

function list(items: readonly string[]): string {
  return items.length === 0 ? '<p>none</p>' : `<ul>${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>`;
}
