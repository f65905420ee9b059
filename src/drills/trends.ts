import type { DrillRunRecord } from '../store/index.js';
import type { Graded } from './types.js';

/** How a drill has done across its recorded runs (those listed). */
export interface DrillTrend {
  drill: string;
  runs: number;
  passed: number;
  failed: number;
  aborted: number;
  lastOutcome: DrillRunRecord['outcome'];
  lastAt: number;
  /** The slowest policy's RTO per graded run, oldest first. */
  rtoMs: number[];
  /** The oldest restore point's age per graded run, oldest first. */
  rpoMs: number[];
  /** Newest minus the one before: negative is faster. Absent with fewer than two measured runs. */
  rtoChangeMs?: number;
  rpoChangeMs?: number;
}

type Measured = { policies?: Record<string, { rto?: Graded; rpo?: Graded }> } | null;

/** The worst figure of a run: its slowest restore, its oldest restore point. */
export function worstOf(run: Pick<DrillRunRecord, 'measured'>, figure: 'rto' | 'rpo'): number | undefined {
  const values = Object.values((run.measured as Measured)?.policies ?? {}).flatMap((p) => (p[figure]?.measuredMs === undefined ? [] : [p[figure]!.measuredMs]));
  return values.length === 0 ? undefined : Math.max(...values);
}

/** Trends per drill, from runs listed newest first (as the store lists them). */
export function drillTrends(runs: readonly DrillRunRecord[]): DrillTrend[] {
  const byDrill = new Map<string, DrillRunRecord[]>();
  for (const run of runs) byDrill.set(run.drill, [...(byDrill.get(run.drill) ?? []), run]);
  return [...byDrill].map(([drill, newestFirst]) => {
    const oldestFirst = [...newestFirst].reverse();
    const series = (figure: 'rto' | 'rpo'): number[] => oldestFirst.flatMap((r) => worstOf(r, figure) ?? []);
    const rtoMs = series('rto');
    const rpoMs = series('rpo');
    const count = (o: DrillRunRecord['outcome']): number => newestFirst.filter((r) => r.outcome === o).length;
    return {
      drill, runs: newestFirst.length, passed: count('passed'), failed: count('failed'), aborted: count('aborted'),
      lastOutcome: newestFirst[0]!.outcome, lastAt: newestFirst[0]!.startedAt, rtoMs, rpoMs,
      ...change('rtoChangeMs', rtoMs), ...change('rpoChangeMs', rpoMs),
    };
  });
}

function change<K extends string>(key: K, values: readonly number[]): Partial<Record<K, number>> {
  if (values.length < 2) return {};
  return { [key]: values[values.length - 1]! - values[values.length - 2]! } as Partial<Record<K, number>>;
}

const BARS = '▁▂▃▄▅▆▇█';

/** A series as a one-line spark chart for a terminal. */
export function sparkline(values: readonly number[]): string {
  if (values.length === 0) return '';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.map((v) => BARS[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))]).join('');
}
