/** One row of HAProxy's `show stat`: a frontend, a backend or one server. */
export interface HaproxyStatRow {
  proxy: string;
  server: string;
  /** Current sessions. */
  current: number;
  total: number;
  /** UP, DOWN, MAINT, DRAIN, NOLB, "no check"… as HAProxy reports it. */
  status: string;
  weight: number;
  queued: number;
  /** Responses by class, HTTP only. */
  responses5xx: number;
  retries: number;
  redispatches: number;
  connectErrors: number;
}

const num = (value: string | undefined): number => (value === undefined || value === '' ? 0 : Number(value));

/** Parses `show stat`'s CSV (header line "# pxname,svname,…"). */
export function parseShowStat(csv: string): HaproxyStatRow[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift()?.replace(/^#\s*/, '').split(',') ?? [];
  const at = (name: string): number => header.indexOf(name);
  return lines.map((line) => {
    const cells = line.split(',');
    const cell = (name: string): string | undefined => cells[at(name)];
    return {
      proxy: cell('pxname') ?? '',
      server: cell('svname') ?? '',
      current: num(cell('scur')),
      total: num(cell('stot')),
      status: cell('status') ?? '',
      weight: num(cell('weight')),
      queued: num(cell('qcur')),
      responses5xx: num(cell('hrsp_5xx')),
      retries: num(cell('wretr')),
      redispatches: num(cell('wredis')),
      connectErrors: num(cell('econ')),
    };
  });
}
