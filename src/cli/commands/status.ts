import type { Command } from 'commander';
import { formatPercent } from '../../plan/index.js';
import type { OwnerSlo } from '../../slo/index.js';
import { getJson, resolveApi, type ApiTarget } from '../api-client.js';
import { EXIT } from '../exit-codes.js';
import { print, printJSON } from '../output.js';
import { age, table, type IncidentAnswer } from './incident-render.js';

interface StatusOptions {
  url?: string;
  token?: string;
  config?: string;
  json?: boolean;
}

interface Member {
  member: string;
  zone?: string;
  backup: boolean;
  status: string;
  reason: string;
  vantages: Array<{ vantage: string; reporting: boolean; status: string; last?: { ok: boolean; reason?: string; message?: string; durationMs: number } }>;
}

type ServiceAnswer = OwnerSlo & { status: string; members: Member[] };
interface GatewayPool {
  listen?: string;
  level: string;
  heldLevel?: string;
  endpoints: Array<{ id: string; admin: string; serving: boolean; active: number }>;
}
/** An open incident as `status` shows it. */
interface OpenIncident {
  id: number;
  severity: string;
  state: string;
  title: string;
  openedAt: number;
  ageMs: number;
}
interface StatusAnswer {
  services: ServiceAnswer[];
  /** Triggered and acknowledged incidents, newest first; absent when the daemon could not list them. */
  incidents?: OpenIncident[];
  /** Why `incidents` is absent. */
  incidentsError?: string;
  /** Live pools of services with a gateway (from /api/v1/gateway). */
  gateway?: Record<string, GatewayPool>;
  agents: Array<{ name: string; zone?: string; reporting: boolean; lastSeen: number }>;
  /** PgBouncers this daemon runs (from /api/v1/poolers). */
  poolers?: PoolerAnswer[];
  /** Redis databases: roles, offsets, Sentinels (from /api/v1/redis). */
  redis?: RedisAnswer[];
}

interface RedisAnswer {
  database: string;
  masterName: string | null;
  master: string | null;
  members: Array<{ name: string; address: string; role: string; offset: number | null; lagBytes: number | null; link: string | null; error?: string }>;
  sentinels: Array<{ sentinel: string; master: string | null; agrees: boolean; flags: string[]; error?: string }>;
}

interface PoolerAnswer {
  database: string;
  listen: string;
  upstream?: string;
  paused?: string;
  repoints: number;
  lastPauseMs?: number;
  pools?: { clientsActive: number; clientsWaiting: number; serversActive: number; serversIdle: number; maxWaitSeconds: number };
  poolsError?: string;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('what is up: services, their endpoints from every vantage point, measured availability and error budget per tier, open incidents')
    .option('--url <url>', 'API of the running daemon (default: $BULWARK_URL, api.listen of -c, or http://127.0.0.1:9180)')
    .option('--token <token>', 'API token (default: $BULWARK_TOKEN)')
    .option('-c, --config <file>', 'configuration file, to find api.listen')
    .option('--json', 'print the raw answer as JSON')
    .addHelpText('after', '\nExit codes: 0 every service up, 1 a service down or unknown, 2 the daemon cannot be reached or the token is refused.')
    .action(async (options: StatusOptions) => {
      process.exitCode = await runStatus(options);
    });
}

async function runStatus(options: StatusOptions): Promise<number> {
  const api = await resolveApi(options);
  const answer = await getJson<StatusAnswer>(api, '/api/v1/services');
  // The pools are extra detail: a daemon that cannot answer them still gets a status.
  const pools = await getJson<{ services: Record<string, GatewayPool> }>(api, '/api/v1/gateway').catch(() => undefined);
  if (pools && Object.keys(pools.services).length > 0) answer.gateway = pools.services;
  const poolers = await getJson<{ poolers: PoolerAnswer[] }>(api, '/api/v1/poolers').catch(() => undefined);
  if (poolers && poolers.poolers.length > 0) answer.poolers = poolers.poolers;
  const redis = await getJson<{ redis: RedisAnswer[] }>(api, '/api/v1/redis').catch(() => undefined);
  if (redis && redis.redis.length > 0) answer.redis = redis.redis;
  Object.assign(answer, await openIncidents(api, Date.now()));
  if (options.json) printJSON(answer);
  else print(renderStatus(answer));
  return answer.services.every((s) => s.status === 'up') ? EXIT.ok : EXIT.findings;
}

export function renderStatus(answer: StatusAnswer): string {
  const rows = [['SERVICE', 'STATUS', 'TIER', 'TARGET', '1h', '24h', '7d', '30d', 'BUDGET 30d', 'UP/ENDPOINTS']];
  for (const s of answer.services) {
    const w = s.windows;
    const pct = (name: '1h' | '24h' | '7d' | '30d') => (w?.[name].availability == null ? '-' : formatPercent(w[name].availability as number, 3));
    const budget = w?.['30d'].errorBudget.remainingRatio;
    rows.push([
      `${s.kind === 'database' ? 'db:' : ''}${s.name}`, s.status.toUpperCase(), s.tier ?? '-', s.target === null ? '-' : formatPercent(s.target, 2),
      pct('1h'), pct('24h'), pct('7d'), pct('30d'),
      budget === undefined || budget === null || !Number.isFinite(budget) ? '-' : `${(budget * 100).toFixed(1)}%`,
      `${s.members.filter((m) => m.status === 'up').length}/${s.members.length}`,
    ]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const lines = rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  const down = answer.services.flatMap((s) => s.members.filter((m) => m.status !== 'up').map((m) => memberLine(s.name, m)));
  if (down.length > 0) lines.push('', 'Endpoints not up', ...down);
  if (answer.agents.length > 0) {
    lines.push('', 'Agents', ...answer.agents.map((a) => `  ${a.name} (${a.zone ?? 'no zone'}): ${a.reporting ? 'reporting' : `SILENT since ${new Date(a.lastSeen).toISOString()}`}`));
  }
  const pools = Object.entries(answer.gateway ?? {});
  if (pools.length > 0) lines.push('', 'Gateway', ...pools.map(([name, p]) => poolLine(name, p)));
  if (answer.poolers?.length) lines.push('', 'PgBouncer', ...answer.poolers.map(poolerLine));
  if (answer.redis?.length) lines.push('', 'Redis', ...answer.redis.flatMap(redisLines));
  const incidents = incidentLines(answer);
  if (incidents.length > 0) lines.push('', ...incidents);
  return lines.join('\n');
}

/** `main-db on 127.0.0.1:6432 -> m2, serving; clients 12 active 0 waiting; servers 5 active 20 idle; max wait 0.0 s; re-pointed 1 (last pause 812 ms)` */
export function poolerLine(p: PoolerAnswer): string {
  const state = p.paused ? `PAUSED (${p.paused})` : 'serving';
  const pools = p.pools
    ? `clients ${p.pools.clientsActive} active ${p.pools.clientsWaiting} waiting; servers ${p.pools.serversActive} active ${p.pools.serversIdle} idle; max wait ${p.pools.maxWaitSeconds.toFixed(1)} s`
    : `pools unreadable (${p.poolsError ?? 'no answer'})`;
  const last = p.lastPauseMs === undefined ? '' : ` (last pause ${Math.round(p.lastPauseMs)} ms)`;
  return `  ${p.database} on ${p.listen} -> ${p.upstream ?? 'no primary'}, ${state}; ${pools}; re-pointed ${p.repoints}${last}`;
}

/**
 * `cache: master 127.0.0.1:6380 (mymaster), Sentinels 2/3 agree` then one line per member
 * (`r2 replica, offset 1200, 0 B behind, link up`) and per Sentinel that disagrees or did not answer.
 */
export function redisLines(r: RedisAnswer): string[] {
  const agreeing = r.sentinels.filter((s) => s.agrees).length;
  const sentinels = r.sentinels.length > 0 ? `, Sentinels ${agreeing}/${r.sentinels.length} agree` : '';
  const head = `  ${r.database}: master ${r.master ?? 'UNKNOWN'}${r.masterName ? ` (${r.masterName})` : ''}${sentinels}`;
  const members = r.members.map((m) => {
    if (m.error) return `    ${m.name} ${m.address}: UNREACHABLE (${m.error})`;
    const lag = m.role === 'replica' && m.lagBytes !== null ? `, ${m.lagBytes} B behind` : '';
    const link = m.link ? `, link ${m.link}` : '';
    return `    ${m.name} ${m.address}: ${m.role}, offset ${m.offset ?? '-'}${lag}${link}`;
  });
  const odd = r.sentinels.filter((s) => !s.agrees).map((s) => `    Sentinel ${s.sentinel}: ${s.error ? `no answer (${s.error})` : `names ${s.master ?? 'no master'}${s.flags.length ? ` [${s.flags.join(',')}]` : ''}`}`);
  return [head, ...members, ...odd];
}

const MAX_INCIDENTS = 1000;

/** Open incidents are extra detail too: a daemon that cannot list them (alerting not started yet) still gets a status. */
async function openIncidents(api: ApiTarget, now: number): Promise<Pick<StatusAnswer, 'incidents' | 'incidentsError'>> {
  try {
    const answer = await getJson<{ incidents: IncidentAnswer[] }>(api, `/api/v1/incidents?state=triggered,acknowledged&limit=${MAX_INCIDENTS}`);
    return {
      incidents: answer.incidents.map((i) => ({ id: i.id, severity: i.severity, state: i.state, title: i.title, openedAt: i.openedAt, ageMs: Math.max(0, now - i.openedAt) })),
    };
  } catch (err) {
    return { incidentsError: (err as Error).message };
  }
}

/** `Open incidents` with one row each, `none`, or why they could not be listed. */
export function incidentLines(answer: Pick<StatusAnswer, 'incidents' | 'incidentsError'>): string[] {
  if (answer.incidents === undefined) return answer.incidentsError === undefined ? [] : [`Open incidents: unknown (${answer.incidentsError})`];
  if (answer.incidents.length === 0) return ['Open incidents: none'];
  const rows = [['ID', 'SEVERITY', 'STATE', 'AGE', 'TITLE']];
  for (const i of answer.incidents) rows.push([String(i.id), i.severity, i.state.toUpperCase(), age(i.ageMs), i.title.replace(/\s+/g, ' ')]);
  return ['Open incidents', ...table(rows, '  ')];
}

/** `api on 127.0.0.1:8080: primary, serving e0, e1; draining e2 (3 in flight)` */
function poolLine(name: string, p: GatewayPool): string {
  const serving = p.endpoints.filter((e) => e.serving).map((e) => e.id);
  const out = p.endpoints.filter((e) => e.admin !== 'enabled').map((e) => `${e.admin} ${e.id}${e.active > 0 ? ` (${e.active} in flight)` : ''}`);
  const held = p.heldLevel ? ` (held at ${p.heldLevel})` : '';
  return `  ${name}${p.listen ? ` on ${p.listen}` : ''}: ${p.level.toUpperCase()}${held}, serving ${serving.length > 0 ? serving.join(', ') : 'nothing'}${out.length > 0 ? `; ${out.join(', ')}` : ''}`;
}

function memberLine(service: string, m: Member): string {
  const views = m.vantages.map((v) => `${v.vantage}=${v.reporting ? v.status : 'silent'}${v.last && !v.last.ok ? ` (${v.last.reason ?? 'error'}: ${v.last.message ?? ''})` : ''}`);
  return `  ${service}/${m.member}${m.zone ? ` [${m.zone}]` : ''}${m.backup ? ' (backup)' : ''}: ${m.status}; ${views.join(', ')}`;
}
