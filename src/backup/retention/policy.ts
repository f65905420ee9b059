import { BulwarkError } from '../../core/errors.js';
import { bucketOf, calendarFields, checkTimeZone, type BucketKind, type CalendarFields } from './calendar.js';

/** The fields retention needs; snapshots may carry anything else. */
export interface RetentionSnapshot {
  id: string;
  time: Date;
}

/** Counts are non-negative integers (0 = rule off); keep_within is in milliseconds. */
export interface RetentionPolicy {
  keep_last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  keep_within?: number;
}

export interface RetentionOptions {
  /** The time of the run: snapshots after it do not count as the newest for keep_within. */
  now: Date;
  /** IANA zone for calendar buckets; default UTC. */
  timeZone?: string;
}

export interface KeptSnapshot<T> {
  snapshot: T;
  /** E.g. ["last 1/3", "daily 2/7", "within 7d"]. */
  reasons: string[];
}

/** Both lists newest first. */
export interface RetentionResult<T> {
  keep: Array<KeptSnapshot<T>>;
  remove: T[];
}

type CountRule = 'keep_last' | BucketKind;
const COUNT_RULES: readonly CountRule[] = ['keep_last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'];
const POLICY_KEYS: ReadonlySet<string> = new Set<string>([...COUNT_RULES, 'keep_within']);

function usage(message: string, hint: string): BulwarkError {
  return new BulwarkError('USAGE', message, { hint });
}

function validatePolicy(policy: RetentionPolicy): void {
  for (const key of Object.keys(policy)) {
    if (!POLICY_KEYS.has(key)) throw usage(`unknown retention rule "${key}"`, `use ${[...POLICY_KEYS].join(', ')}`);
  }
  for (const rule of COUNT_RULES) {
    const n = policy[rule];
    if (n !== undefined && !(Number.isSafeInteger(n) && n >= 0)) {
      throw usage(`retention rule ${rule} must be a whole number >= 0, got ${String(n)}`, `e.g. ${rule}: 7`);
    }
  }
  const within = policy.keep_within;
  if (within !== undefined && !(Number.isFinite(within) && within >= 0)) {
    throw usage(`retention rule keep_within must be a duration in milliseconds >= 0, got ${String(within)}`, 'e.g. 7 days = 604800000');
  }
  if (COUNT_RULES.every((r) => !policy[r]) && !within) {
    throw usage('no retention rule given', 'set at least one of keep_last, hourly, daily, weekly, monthly, yearly, keep_within; an empty policy would forget nothing, so it is refused');
  }
}

interface RuleState {
  kind: CountRule;
  count: number;
  used: number;
  /** Bucket of the last snapshot this rule kept. */
  last: number;
}

/** restic's bucket walk for one snapshot (newest first): a rule with room keeps the first snapshot of each new bucket. */
function countReasons(rules: RuleState[], bucket: (kind: CountRule) => number, oldest: boolean): string[] {
  const reasons: string[] = [];
  for (const rule of rules) {
    if (rule.used >= rule.count) continue;
    const b = bucket(rule.kind);
    const name = rule.kind === 'keep_last' ? 'last' : rule.kind;
    if (b !== rule.last) {
      rule.last = b;
      reasons.push(`${name} ${++rule.used}/${rule.count}`);
    } else if (oldest) {
      // The rule still has room: keeping the oldest snapshot too maximizes the history kept.
      reasons.push(`oldest ${name} ${++rule.used}/${rule.count}`);
    }
  }
  return reasons;
}

function checkDate(d: Date, what: string): number {
  const t = d instanceof Date ? d.getTime() : Number.NaN;
  if (Number.isNaN(t)) throw usage(`${what} is not a valid date`, 'pass a Date with a valid time');
  return t;
}

/** "7d", "1d12h", "90m" → "1h30m", "1500ms" → "1s500ms". */
export function formatDuration(ms: number): string {
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]];
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out || '0ms';
}

/**
 * restic's `forget` policy (restic 0.17): see docs/backup-retention.md. Pure:
 * the clock and the zone come in `options`. Throws BulwarkError USAGE on an
 * empty or malformed policy, an unknown zone, or an invalid date.
 */
export function applyRetention<T extends RetentionSnapshot>(
  snapshots: readonly T[],
  policy: RetentionPolicy,
  options: RetentionOptions,
): RetentionResult<T> {
  validatePolicy(policy);
  const timeZone = options.timeZone ?? 'UTC';
  checkTimeZone(timeZone);
  const now = checkDate(options.now, 'now');
  const list = snapshots
    .map((snapshot, index) => ({ snapshot, index, t: checkDate(snapshot.time, `snapshot ${snapshot.id} time`) }))
    .sort((a, b) => b.t - a.t || a.index - b.index);

  // Measured from the newest snapshot not in the future, as restic does.
  const latest = list.find((s) => s.t <= now)?.t ?? Number.NEGATIVE_INFINITY;
  const within = policy.keep_within ?? 0;
  const rules: RuleState[] = COUNT_RULES.filter((r) => (policy[r] ?? 0) > 0).map((kind) => ({ kind, count: policy[kind] as number, used: 0, last: Number.NaN }));

  const result: RetentionResult<T> = { keep: [], remove: [] };
  list.forEach(({ snapshot, t }, nr) => {
    let fields: CalendarFields | undefined;
    const bucket = (kind: CountRule): number => (kind === 'keep_last' ? nr : bucketOf(kind, (fields ??= calendarFields(snapshot.time, timeZone))));
    const reasons = countReasons(rules, bucket, nr === list.length - 1);
    if (within > 0 && t >= latest - within) reasons.push(`within ${formatDuration(within)}`);
    if (reasons.length > 0) result.keep.push({ snapshot, reasons });
    else result.remove.push(snapshot);
  });
  return result;
}
