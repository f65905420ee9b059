/**
 * Result model, goals and the comparison table of the backup benchmark.
 */
import { cpus } from 'node:os';
import type { Mutation } from './mutate.js';
import type { ToolName } from './tools.js';

export const STEPS = ['first backup', 'second backup', 'no-change backup', 'restore', 'check --read-data'] as const;
export type StepName = (typeof STEPS)[number];

export interface Outcome {
  status: 'ok' | 'failed' | 'skipped';
  /** Why it failed or was skipped: exit code and last stderr lines. */
  reason?: string;
  /** Median wall time over rounds. */
  seconds?: number;
  mibPerSec?: number;
  /** Highest peak RSS over rounds. */
  peakRssMiB?: number;
  rounds: { seconds: number; peakRssMiB: number | null }[];
  /** Data set bytes the throughput is computed from. */
  bytes: number;
  /** Repository size (apparent, like du -sb) after a backup step. */
  repoBytes?: number;
  repoAllocatedBytes?: number;
  /** Bytes added according to the tool's own JSON summary, when it reports it. */
  dataAdded?: number;
  /** Restore verification problem, loudly reported. */
  mismatch?: string;
}

export interface Goal { name: string; target: string; value: string; met: boolean | null }

export interface BenchResult {
  dataset: { root: string; seed: string; bytes: number; files: number; textShare: number; generatedSeconds: number; reused: boolean; shape?: 'mixed' | 'small' };
  mutation?: Mutation & { bytesAfter: number };
  cachesDropped: boolean;
  /** 1-minute load average before and after: other load on the machine skews the numbers. */
  loadAverage: number[];
  rssSource: string;
  rounds: number;
  restic: { version: string; repoVersion: number | null };
  bulwark: { command: string };
  /** `init` failures: exit code and last stderr lines. */
  initFailures: Partial<Record<ToolName, string>>;
  steps: Partial<Record<StepName, Partial<Record<ToolName, Outcome>>>>;
  goals: Goal[];
}

const MIB = 1024 * 1024;
const fmt = (n: number | undefined, d = 1) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(d));

function speedRatio(r?: Outcome, b?: Outcome): number | undefined {
  return r?.status === 'ok' && b?.status === 'ok' && r.seconds && b.seconds ? r.seconds / b.seconds : undefined;
}

function rssRatio(r?: Outcome, b?: Outcome): number | undefined {
  return r?.peakRssMiB && b?.status === 'ok' && b.peakRssMiB !== undefined ? b.peakRssMiB / r.peakRssMiB : undefined;
}

const lastBackup = (res: BenchResult, tool: ToolName): Outcome | undefined =>
  (['no-change backup', 'second backup', 'first backup'] as const).map((s) => res.steps[s]?.[tool]).find((o) => o?.repoBytes !== undefined);

function goal(name: string, target: string, value: number | undefined, ok: (v: number) => boolean, unit = '×'): Goal {
  return { name, target, value: value === undefined ? 'n/a' : `${fmt(value, 2)}${unit}`, met: value === undefined ? null : ok(value) };
}

/** A goal for a step restic completed: not met when bulwark failed or was skipped, n/a when restic did not complete. */
function stepGoal(name: string, target: string, r: Outcome | undefined, b: Outcome | undefined, value: number | undefined, ok: (v: number) => boolean): Goal {
  if (r?.status === 'ok' && b && b.status !== 'ok') return { name, target, value: `bulwark ${b.status}`, met: false };
  return goal(name, target, value, ok);
}

export function evaluateGoals(res: BenchResult): Goal[] {
  const goals: Goal[] = [];
  for (const step of STEPS) {
    const { restic: r, bulwark: b } = res.steps[step] ?? {};
    const min = step === 'first backup' ? 1.5 : 1;
    goals.push(stepGoal(`${step}: throughput vs restic`, `≥ ${min}×`, r, b, speedRatio(r, b), (v) => v >= min));
    goals.push(stepGoal(`${step}: peak RSS vs restic`, '≤ 1×', r, b, rssRatio(r, b), (v) => v <= 1));
  }
  const rr = lastBackup(res, 'restic')?.repoBytes;
  const br = lastBackup(res, 'bulwark')?.repoBytes;
  const repoGoal = goal('repository size after the last backup vs restic', '≤ 1.05×', rr && br !== undefined ? br / rr : undefined, (v) => v <= 1.05);
  const bulwarkRan = res.steps['first backup']?.bulwark !== undefined;
  goals.push(rr && br === undefined && bulwarkRan ? { ...repoGoal, value: 'bulwark made no backup', met: false } : repoGoal);
  for (const tool of ['restic', 'bulwark'] as const) {
    const o = res.steps.restore?.[tool];
    goals.push({ name: `${tool} restore identical to the data set`, target: 'yes', value: o?.status !== 'ok' ? 'n/a' : o.mismatch ? 'NO' : 'yes', met: o?.status !== 'ok' ? null : !o.mismatch });
  }
  return goals;
}

function cells(o: Outcome | undefined): string[] {
  if (!o) return ['-', '-', '-'];
  if (o.status !== 'ok') return [o.status === 'failed' ? 'FAILED' : 'skipped', '', ''];
  return [`${fmt(o.seconds, 2)}s`, fmt(o.mibPerSec), `${fmt(o.peakRssMiB, 0)}MiB`];
}

const row = (cols: string[], widths: number[]) => cols.map((c, i) => c.padEnd(widths[i] ?? 10)).join(' ').trimEnd();

function header(res: BenchResult): string[] {
  const d = res.dataset;
  const m = res.mutation;
  const lines = [
    `\nBackup benchmark: ${fmt(d.bytes / MIB, 0)} MiB data set, ${d.files} files of ${d.shape === 'small' ? '200 B-8 KiB' : '4 KiB-64 MiB (log-uniform)'}, ${fmt(d.textShare * 100)}% text / rest incompressible, seed ${d.seed}` +
      ` (${d.reused ? 'reused' : `generated in ${fmt(d.generatedSeconds, 2)}s`})`,
    `${res.restic.version}, repository format v${res.restic.repoVersion ?? '?'} (its default), compression auto  vs  bulwark: ${res.bulwark.command}`,
    res.cachesDropped
      ? 'Page cache dropped before every timed run of both tools (sync; echo 3 > /proc/sys/vm/drop_caches); restic runs first in each step.'
      : 'Page cache NOT dropped (not root or not allowed): warm-cache numbers for both tools; restic runs first in each step.',
    `MiB/s = whole data set at that step / wall time (second and no-change backups too, as restic reports). Peak RSS: ${res.rssSource}.`,
  ];
  if (m) {
    lines.push(`Second backup after changing ${fmt((100 * m.changed) / d.bytes)}% of the bytes: ${fmt(m.overwritten / MIB)} MiB overwritten mid-file in ${m.files.overwritten} files, ` +
      `${fmt(m.appended / MIB)} MiB appended to ${m.files.appended}, ${m.files.added} new files (${fmt(m.added / MIB)} MiB), ${m.files.deleted} deleted (${fmt(m.deleted / MIB)} MiB).`);
  }
  lines.push(`1-minute load average before/after: ${res.loadAverage.join(' / ')} (${cpus().length} CPUs); other load skews both tools' numbers.`);
  lines.push('Repository size = apparent bytes (du -sb); restic picks a random chunker polynomial per repository, so its size after the second backup varies by a few % between runs. "added" = the tool\'s own JSON summary (restic 0.14: before compression).');
  if (res.rounds > 1) lines.push(`No-change backup, restore and check: median time of ${res.rounds} rounds, highest RSS.`);
  return lines;
}

function stepTable(res: BenchResult): string[] {
  const w = [18, 9, 7, 8, 9, 7, 8, 8, 6];
  const out = [row(['step', 'restic', 'MiB/s', 'RSS', 'bulwark', 'MiB/s', 'RSS', 'speed×', 'RSS×'], w)];
  for (const step of STEPS) {
    const { restic: r, bulwark: b } = res.steps[step] ?? {};
    out.push(row([step, ...cells(r), ...cells(b), fmt(speedRatio(r, b), 2), fmt(rssRatio(r, b), 2)], w));
  }
  return out;
}

function repoTable(res: BenchResult): string[] {
  const w = [22, 12, 12, 8, 14, 14];
  const out = ['', row(['repository size', 'restic', 'bulwark', 'ratio', 'restic added', 'bulwark added'], w)];
  for (const step of ['first backup', 'second backup', 'no-change backup'] as const) {
    const { restic: r, bulwark: b } = res.steps[step] ?? {};
    const size = (o?: Outcome) => (o?.repoBytes === undefined ? '-' : `${fmt(o.repoBytes / MIB)}MiB`);
    const added = (o?: Outcome) => (o?.dataAdded === undefined ? '-' : `${fmt(o.dataAdded / MIB)}MiB`);
    const ratio = r?.repoBytes && b?.repoBytes !== undefined ? fmt(b.repoBytes / r.repoBytes, 3) : '-';
    out.push(row([`after ${step}`, size(r), size(b), ratio, added(r), added(b)], w));
  }
  return out;
}

function problems(res: BenchResult): string[] {
  const out = Object.entries(res.initFailures).map(([tool, why]) => `${tool} init failed: ${why}`);
  for (const step of STEPS) {
    for (const [tool, o] of Object.entries(res.steps[step] ?? {})) {
      if (o.mismatch) out.push(`!!! ${tool} ${step}: RESTORED TREE DIFFERS FROM THE DATA SET: ${o.mismatch}`);
      else if (o.status !== 'ok') out.push(`${tool} ${step} ${o.status}: ${o.reason ?? ''}`);
    }
  }
  return out.length ? ['', ...out] : [];
}

export function printReport(res: BenchResult): void {
  const goals = res.goals.map((g) => `  ${g.met === null ? '  n/a ' : g.met ? '  met ' : 'NOT MET'} ${g.name}: ${g.value} (goal ${g.target})`);
  console.log([...header(res), '', ...stepTable(res), ...repoTable(res), ...problems(res), '', 'Goals:', ...goals].join('\n'));
}
