import { formatDuration, formatPercent, percentDigits } from './format.js';
import type { ComponentPlan, PlanReport } from './report.js';
import { STRATEGY_LABELS } from './strategy.js';

export { formatDuration, formatPercent } from './format.js';

export interface RenderOptions {
  /** ANSI colours for a terminal; off by default so output pipes cleanly. */
  color?: boolean;
}

type Style = 'ok' | 'bad' | 'head' | 'dim' | 'warn' | undefined;

interface Cell {
  text: string;
  style?: Style;
}

const ANSI: Record<Exclude<Style, undefined>, string> = {
  ok: '\x1b[32m', bad: '\x1b[31m', head: '\x1b[1m', dim: '\x1b[2m', warn: '\x1b[33m',
};
const RESET = '\x1b[0m';

const HEADERS = ['COMPONENT', 'TIER', 'MODELLED', 'TARGET', '', 'BUDGET/YR', 'BUDGET/MO', 'EXPECTED/YR', 'DETECTION', 'RECOVERY/RTO', 'STRATEGY'];

/** The plan as plain-text columns, then SPOFs, strategy reasons and findings. */
export function renderPlanTable(report: PlanReport, options: RenderOptions = {}): string {
  const paint = (text: string, style: Style): string =>
    options.color && style ? `${ANSI[style]}${text}${RESET}` : text;
  const rows: Cell[][] = [HEADERS.map((text) => ({ text, style: 'head' })), ...report.components.map(componentRow)];
  const lines = [...table(rows, paint), '', ...spofSection(report, paint), '', ...strategySection(report, paint)];
  const findings = findingSection(report, paint);
  if (findings.length > 0) lines.push('', ...findings);
  lines.push('', paint(footnote(report), 'dim'));
  return `${lines.join('\n')}\n`;
}

function componentRow(c: ComponentPlan): Cell[] {
  const dash = { text: '-', style: 'dim' as const };
  const modelled = `${c.availability.approximate ? '~' : ''}${formatPercent(c.availability.endToEnd)}`;
  const verdict: Cell = c.meetsTarget === null ? dash : c.meetsTarget ? { text: '✓', style: 'ok' } : { text: '✗', style: 'bad' };
  return [
    { text: c.name },
    c.tier ? { text: c.tier } : dash,
    { text: modelled, style: c.meetsTarget === false ? 'bad' : undefined },
    c.target ? { text: formatPercent(c.target.availability, percentDigits(c.target.availability)) } : dash,
    verdict,
    c.budget ? { text: formatDuration(c.budget.yearMs) } : dash,
    c.budget ? { text: formatDuration(c.budget.monthMs) } : dash,
    { text: formatDuration(c.expectedDowntime.yearMs) },
    c.recovery.detectionMs === null ? dash : { text: formatDuration(c.recovery.detectionMs) },
    recoveryCell(c),
    c.strategy ? { text: STRATEGY_LABELS[c.strategy.strategy] } : dash,
  ];
}

function recoveryCell(c: ComponentPlan): Cell {
  const { estimatedRecoveryMs: est, rtoMs, meetsRto } = c.recovery;
  const estText = est === null ? '?' : formatDuration(est);
  if (rtoMs === null) return { text: est === null ? '-' : estText, style: est === null ? 'dim' : undefined };
  const mark = meetsRto === null ? '' : meetsRto ? ' ✓' : ' ✗';
  return { text: `${estText} / ${formatDuration(rtoMs)}${mark}`, style: meetsRto === false ? 'bad' : undefined };
}

function table(rows: Cell[][], paint: (text: string, style: Style) => string): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.text.length ?? 0))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, i) => paint(cell.text.padEnd(widths[i] ?? 0), cell.style))
      .join('  ')
      .trimEnd(),
  );
}

function spofSection(report: PlanReport, paint: (text: string, style: Style) => string): string[] {
  const head = paint('Single points of failure', 'head');
  if (report.spofs.length === 0) return [`${head}: none found`];
  return [head, ...report.spofs.map((s) => `  ${paint('✗', 'bad')} ${s.component} (${s.scope} ${s.domain}): ${s.message}`)];
}

function strategySection(report: PlanReport, paint: (text: string, style: Style) => string): string[] {
  const byTier = new Map<string, string>();
  for (const c of report.components) {
    if (c.tier && c.strategy && !byTier.has(c.tier)) byTier.set(c.tier, c.strategy.reason);
  }
  const head = paint('DR strategy by tier', 'head');
  if (byTier.size === 0) return [`${head}: no component has a tier`];
  return [head, ...[...byTier].map(([tier, reason]) => `  ${tier}: ${reason}`)];
}

function findingSection(report: PlanReport, paint: (text: string, style: Style) => string): string[] {
  if (report.findings.length === 0) return [];
  const style = { error: 'bad', warning: 'warn', info: 'dim' } as const;
  return [
    paint('Findings', 'head'),
    ...report.findings.map((f) => `  ${paint(f.severity.padEnd(7), style[f.severity])} ${f.code}: ${f.message}`),
  ];
}

function footnote(report: PlanReport): string {
  const approx = report.approximate ? ' ~ marks an approximation (too many zones, regions and shared hosts to enumerate).' : '';
  return `Availability is end to end (the component and all it depends on); a year is ${report.conventions.daysPerYear} days, a month 1/12 of it.${approx}`;
}
