/**
 * Availability as a percentage with `digits` decimals. A value below 1 never
 * prints as 100%: decimals are added until it does not (a 100% claim would be a lie).
 */
export function formatPercent(fraction: number, digits = 4): string {
  let d = Math.max(0, digits);
  let text = (fraction * 100).toFixed(d);
  while (fraction < 1 && Number(text) >= 100 && d < 12) text = (fraction * 100).toFixed(++d);
  return `${text}%`;
}

/** The fewest decimals (up to `max`) that show a fraction exactly: 0.999 → 1, 0.9995 → 2. */
export function percentDigits(fraction: number, max = 6): number {
  for (let d = 0; d < max; d++) if (Math.abs(Number((fraction * 100).toFixed(d)) - fraction * 100) < 1e-9) return d;
  return max;
}

const UNITS: ReadonlyArray<{ suffix: string; ms: number; limit: number }> = [
  { suffix: 'ms', ms: 1, limit: 1000 },
  { suffix: 's', ms: 1000, limit: 60 },
  { suffix: 'm', ms: 60_000, limit: 60 },
  { suffix: 'h', ms: 3_600_000, limit: 48 },
  { suffix: 'd', ms: 86_400_000, limit: Infinity },
];

/** A duration in the largest fitting unit, three significant digits: "8.76h", "43.8m", "52.6s", "30m". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  for (const unit of UNITS) {
    const value = Number((abs / unit.ms).toPrecision(3));
    if (value < unit.limit) return `${sign}${value}${unit.suffix}`;
  }
  return `${sign}${Number((abs / 86_400_000).toPrecision(3))}d`;
}
