/**
 * Human-friendly value forms in bulwark.yaml. Each parser returns a result
 * rather than throwing, so the schema can report every bad value at once.
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };

const DURATION_UNITS: Record<string, number> = {
  ms: 1, msec: 1, millisecond: 1, milliseconds: 1,
  s: 1_000, sec: 1_000, secs: 1_000, second: 1_000, seconds: 1_000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};

/** Nothing Bulwark schedules or promises is longer than a century; larger values are typos. */
const MAX_DURATION_MS = 100 * 365 * 86_400_000;

export const DURATION_EXPECTED = 'a duration such as 500ms, 30s, "30 seconds", 2m, 4h, 1d or 1h30m';

/** "30s", "30 seconds", "1h30m", "1.5h" → milliseconds. A bare 0 is allowed; other bare numbers are ambiguous. */
export function parseDuration(input: unknown): Parsed<number> {
  const fail = { ok: false as const, expected: DURATION_EXPECTED };
  if (input === 0 || input === '0') return { ok: true, value: 0 };
  if (typeof input !== 'string') return fail;
  const text = input.trim().toLowerCase();
  const part = /(\d+(?:\.\d+)?)\s*([a-z]+)\s*/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(text); match; match = part.exec(text)) {
    const factor = DURATION_UNITS[match[2] ?? ''];
    if (factor === undefined) return fail;
    total += Number(match[1]) * factor;
    consumed = part.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length || total > MAX_DURATION_MS) return fail;
  return { ok: true, value: Math.round(total) };
}

export const PERCENT_EXPECTED = 'a percentage such as 99.95% (greater than 0%, at most 100%)';

/** "99.95%" → 0.9995. Bare numbers are refused: is 99.9 a ratio or a percent? */
export function parsePercent(input: unknown, options: { allowZero?: boolean } = {}): Parsed<number> {
  const fail = { ok: false as const, expected: PERCENT_EXPECTED };
  if (typeof input !== 'string') return fail;
  const match = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(input);
  if (!match) return fail;
  const percent = Number(match[1]);
  if (percent > 100 || (percent === 0 && !options.allowZero)) return fail;
  return { ok: true, value: percent / 100 };
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
  k: 1024, m: 1024 ** 2, g: 1024 ** 3, // PostgreSQL style (1MB there is 1024 KiB): only as bare letters
};

export const SIZE_EXPECTED = 'a size such as 512KiB, 1MB, 16MiB or 1GB (KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024), or a whole number of bytes';

/** "1MB" → 1_000_000, "512KiB" → 524_288, 4096 → 4096. */
export function parseSize(input: unknown): Parsed<number> {
  const fail = { ok: false as const, expected: SIZE_EXPECTED };
  if (typeof input === 'number') return Number.isInteger(input) && input >= 0 ? { ok: true, value: input } : fail;
  if (typeof input !== 'string') return fail;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(input);
  if (!match) return fail;
  const unit = (match[2] ?? '').toLowerCase() || 'b';
  const factor = SIZE_UNITS[unit];
  if (factor === undefined) return fail;
  return { ok: true, value: Math.round(Number(match[1]) * factor) };
}

export function formatDurationShort(ms: number): string {
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]];
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [name, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${name}`;
      rest -= count * size;
    }
  }
  return rest > 0 ? `${out}${rest}ms` : out;
}
