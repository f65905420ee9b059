import { isBulwarkError, type BulwarkError, type ErrorCode } from '../../core/errors.js';

export interface Stats {
  n: number;
  min: number;
  median: number;
  p95: number;
  max: number;
}

export function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { n: sorted.length, min: round(sorted[0] ?? NaN), median: round(at(0.5)), p95: round(at(0.95)), max: round(sorted.at(-1) ?? NaN) };
}

export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

export function describeStats(name: string, s: Stats): string {
  return `${name}: median ${s.median} ms, p95 ${s.p95} ms, min ${s.min} ms, max ${s.max} ms (n=${s.n})`;
}

/** The BulwarkError `promise` rejects with, failing unless it has `code`; and how long the rejection took. */
export async function rejection(promise: Promise<unknown>, code: ErrorCode): Promise<{ error: BulwarkError; ms: number }> {
  const start = performance.now();
  try {
    await promise;
  } catch (err) {
    if (isBulwarkError(err) && err.code === code) return { error: err, ms: performance.now() - start };
    throw new Error(`expected a BulwarkError ${code}, got ${String(err)}`, { cause: err });
  }
  throw new Error(`expected a BulwarkError ${code}, but the call succeeded`);
}
