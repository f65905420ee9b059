import { describe, expect, it } from 'vitest';
import { parseConfigText } from './load.js';
import { longestGapMs, parsePolicySchedule, parseSchedule, type Schedule } from './schedule.js';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;

function parsed(input: string): Schedule {
  const result = parseSchedule(input);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(input)} to parse`);
  return result.value;
}

describe('parseSchedule', () => {
  it.each<[string, string, string]>([
    ['0 2 * * *', '0 2 * * *', 'UTC'],
    ['*/5 * * * *', '*/5 * * * *', 'UTC'],
    ['0 0 1,15 * *', '0 0 1,15 * *', 'UTC'],
    ['30 0 2 * * *', '30 0 2 * * *', 'UTC'],
    ['0 9 * * mon-fri', '0 9 * * mon-fri', 'UTC'],
    ['@hourly', '0 * * * *', 'UTC'],
    ['@daily', '0 0 * * *', 'UTC'],
    ['@midnight', '0 0 * * *', 'UTC'],
    ['@weekly', '0 0 * * 0', 'UTC'],
    ['@monthly', '0 0 1 * *', 'UTC'],
    ['@yearly', '0 0 1 1 *', 'UTC'],
    ['hourly', '0 * * * *', 'UTC'],
    ['daily', '0 0 * * *', 'UTC'],
    ['Daily', '0 0 * * *', 'UTC'],
    ['weekly', '0 0 * * 0', 'UTC'],
    ['monthly', '0 0 1 * *', 'UTC'],
    ['every 15 minutes', '*/15 * * * *', 'UTC'],
    ['every 1 minute', '*/1 * * * *', 'UTC'],
    ['every 30 min', '*/30 * * * *', 'UTC'],
    ['every 6 hours', '0 */6 * * *', 'UTC'],
    ['every 12 h', '0 */12 * * *', 'UTC'],
    ['daily at 2:00 AM UTC', '0 2 * * *', 'UTC'],
    ['daily at 2:30 pm', '30 14 * * *', 'UTC'],
    ['daily at 12:00 AM', '0 0 * * *', 'UTC'],
    ['daily at 12:15 PM', '15 12 * * *', 'UTC'],
    ['daily at 23:59', '59 23 * * *', 'UTC'],
    ['daily at 7', '0 7 * * *', 'UTC'],
    ['daily at 02:00 GMT', '0 2 * * *', 'UTC'],
    ['weekly on sunday at 03:00', '0 3 * * 0', 'UTC'],
    ['weekly on Saturday at 05:00', '0 5 * * 6', 'UTC'],
    ['monthly on day 1 at 02:00 Europe/Paris', '0 2 1 * *', 'Europe/Paris'],
    ['monthly on day 28 at 3:05 America/Argentina/Buenos_Aires', '5 3 28 * *', 'America/Argentina/Buenos_Aires'],
    ['daily at 02:00   America/New_York', '0 2 * * *', 'America/New_York'],
  ])('%j → %j in %s', (input, cron, timezone) => {
    expect(parseSchedule(input)).toEqual({ ok: true, value: { text: input.trim(), cron, timezone } });
  });

  it.each<unknown>([
    '61 * * * *',
    '0 25 * * *',
    '* * * *',
    'daily at 25:00',
    'daily at 2:60',
    'daily at 13:00 pm',
    'daily at 0:00 am',
    'every 7 minutes',
    'every 60 minutes',
    'every 0 minutes',
    'every 5 hours',
    'every 24 hours',
    'weekly on funday at 03:00',
    'monthly on day 31 at 02:00',
    'monthly on day 0 at 02:00',
    'daily at 02:00 Mars/Olympus_Mons',
    'bogus',
    '',
    '   ',
    5,
    null,
    undefined,
    ['0 2 * * *'],
  ])('rejects %j', (input) => {
    const result = parseSchedule(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.expected).toContain('cron');
  });
});

describe('longestGapMs', () => {
  it.each<[string, number]>([
    ['daily', D],
    ['daily at 2:00 AM UTC', D],
    ['@hourly', H],
    ['every 15 minutes', 15 * M],
    ['every 6 hours', 6 * H],
    ['weekly on sunday at 03:00', 7 * D],
    ['0 2 * * 1-5', 3 * D],
  ])('%j → %d ms', (input, gap) => {
    expect(longestGapMs(parsed(input))).toBe(gap);
  });

  it('a monthly schedule has gaps up to 31 days', () => {
    expect(longestGapMs(parsed('monthly'))).toBe(31 * D);
  });

  it('counts the 25-hour day of a daylight saving change in a local time zone', () => {
    expect(longestGapMs(parsed('daily at 02:30 Europe/Paris'))).toBeGreaterThan(D);
  });

  it('a schedule that fires at most once is an infinite gap', () => {
    expect(longestGapMs(parsed('0 0 29 2 *'), new Date(Date.UTC(2026, 0, 1)))).toBeGreaterThan(365 * D);
  });
});

describe('backup policy schedules', () => {
  it('accepts "on change" for a policy, with a daily catch-up run, and nowhere else', () => {
    for (const text of ['on change', 'On Every Change', 'on changes']) {
      expect(parsePolicySchedule(text)).toMatchObject({ ok: true, value: { text, onChange: true, cron: '0 3 * * *' } });
    }
    expect(parsePolicySchedule('daily at 02:00')).toMatchObject({ ok: true, value: { cron: '0 2 * * *' } });
    expect(parsePolicySchedule('on tuesdays')).toMatchObject({ ok: false, expected: expect.stringMatching(/^"on change" or a cron expression/) });
    expect(parseSchedule('on change').ok).toBe(false);
  });

  it('check refuses "on change" for a database source: it has no files to watch', () => {
    const loaded = parseConfigText(`
databases:
  db: { postgres: { members: [{ name: a, port: 5432 }] } }
backups:
  repositories: { local: { path: /var/backups/bulwark, password: x } }
  policies:
    db: { source: { postgres: db }, schedule: on change, copies: [local] }
    etc: { source: { paths: [/etc/bulwark] }, schedule: on change, watch: { debounce: 10s, min_interval: 5m }, retention: { keep_within: 90d }, copies: [local] }
`, 'bulwark.yaml');
    const rules = loaded.findings.filter((f) => f.severity === 'error').map((f) => `${f.rule} ${f.path.join('.')}`);
    expect(rules).toEqual(['lint.on_change_needs_paths backups.policies.db.schedule']);
    expect(loaded.config?.backups?.policies.etc?.watch).toEqual({ debounce: 10_000, min_interval: 300_000 });
  });
});
