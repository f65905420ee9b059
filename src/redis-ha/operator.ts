/**
 * What `bulwark redis status|failover` asks: every member's role and
 * replication offset, every Sentinel's view of the master and whether it
 * agrees with the newest; a failover asked of one Sentinel (`SENTINEL
 * FAILOVER`), then waited for until the Sentinels name another master.
 */
import type { DatabaseConfig } from '../config/index.js';
import { BulwarkError, errorMessage } from '../core/errors.js';
import { sleep } from '../core/time.js';
import { chooseNewest } from './master-tracker.js';
import { ask, replicationInfo, sentinelView, type SentinelView } from './sentinel-query.js';

const TIMEOUT_MS = 2_000;

export interface RedisMemberStatus {
  name: string; address: string; role: 'master' | 'replica' | 'unknown';
  /** master_repl_offset on the master, slave_repl_offset on a replica. */
  offset: number | null;
  /** A replica's bytes behind the master asked in the same round. */
  lagBytes: number | null;
  link: string | null;
  error?: string;
}

export interface SentinelStatus { sentinel: string; master: string | null; epoch: number | null; flags: string[]; agrees: boolean; error?: string }

export interface RedisStatus { database: string; masterName: string | null; master: string | null; members: RedisMemberStatus[]; sentinels: SentinelStatus[] }

function redisOf(name: string, database: DatabaseConfig | undefined): NonNullable<DatabaseConfig['redis']> {
  if (!database?.redis) throw new BulwarkError('USAGE', `database "${name}" is not a Redis database in databases:`, { hint: 'name a database that has a redis: section' });
  return database.redis;
}

async function memberStatus(m: { name: string; host: string; port: number }, password: string | undefined): Promise<RedisMemberStatus & { masterOffset?: number }> {
  const address = `${m.host}:${m.port}`;
  try {
    const info = await replicationInfo({ host: m.host, port: m.port, password, timeoutMs: TIMEOUT_MS });
    const master = info.get('role') === 'master';
    const offset = Number(info.get(master ? 'master_repl_offset' : 'slave_repl_offset') ?? NaN);
    return { name: m.name, address, role: master ? 'master' : 'replica', offset: Number.isFinite(offset) ? offset : null, lagBytes: master ? 0 : null, link: master ? null : info.get('master_link_status') ?? null };
  } catch (err) {
    return { name: m.name, address, role: 'unknown', offset: null, lagBytes: null, link: null, error: errorMessage(err) };
  }
}

export async function readRedisStatus(name: string, database: DatabaseConfig | undefined): Promise<RedisStatus> {
  const redis = redisOf(name, database);
  const members = await Promise.all(redis.members.map((m) => memberStatus(m, redis.password)));
  const masterOffset = members.find((m) => m.role === 'master')?.offset;
  for (const m of members) if (m.role === 'replica' && m.offset !== null && masterOffset != null) m.lagBytes = Math.max(0, masterOffset - m.offset);
  const sentinel = redis.sentinel;
  const answers = await Promise.all((sentinel?.sentinels ?? []).map(async (s) => {
    try {
      return await sentinelView({ host: s.host, port: s.port, password: sentinel?.password, timeoutMs: TIMEOUT_MS }, sentinel!.master_name);
    } catch (err) {
      return { sentinel: `${s.host}:${s.port}`, error: errorMessage(err) };
    }
  }));
  const views = answers.filter((a): a is SentinelView => 'master' in a);
  const newest = views.length > 0 ? chooseNewest(views) : undefined;
  const at = (v: SentinelView): string => `${v.master.host}:${v.master.port}`;
  const sentinels: SentinelStatus[] = answers.map((a) => ('master' in a
    ? { sentinel: a.sentinel, master: at(a), epoch: a.epoch, flags: a.flags, agrees: newest !== undefined && at(a) === at(newest) }
    : { sentinel: a.sentinel, master: null, epoch: null, flags: [], agrees: false, error: a.error }));
  return { database: name, masterName: sentinel?.master_name ?? null, master: newest ? at(newest) : members.find((m) => m.role === 'master')?.address ?? null, members, sentinels };
}

/** Asks the first Sentinel that answers for a failover and waits until a master other than `before` is named. */
export async function requestRedisFailover(name: string, database: DatabaseConfig | undefined, timeoutMs: number): Promise<{ from: string | null; to: string; sentinel: string; tookMs: number }> {
  const redis = redisOf(name, database);
  const sentinel = redis.sentinel;
  if (!sentinel) throw new BulwarkError('USAGE', `database "${name}" has no sentinel: section; a failover is Sentinel's to make`, { hint: 'add redis.sentinel with its sentinels' });
  const before = (await readRedisStatus(name, database)).master;
  const started = Date.now();
  const errors: string[] = [];
  for (const s of sentinel.sentinels) {
    const endpoint = { host: s.host, port: s.port, password: sentinel.password, timeoutMs: TIMEOUT_MS };
    try {
      await ask(endpoint, [['SENTINEL', 'FAILOVER', sentinel.master_name]]);
    } catch (err) {
      errors.push(`${s.host}:${s.port}: ${errorMessage(err)}`);
      continue;
    }
    while (Date.now() - started < timeoutMs) {
      const view = await sentinelView(endpoint, sentinel.master_name).catch(() => undefined);
      const now = view && `${view.master.host}:${view.master.port}`;
      if (now && now !== before) return { from: before, to: now, sentinel: `${s.host}:${s.port}`, tookMs: Date.now() - started };
      await sleep(100);
    }
    throw new BulwarkError('NOT_READY', `Sentinel ${s.host}:${s.port} accepted the failover of ${name}, but no new master was named within ${timeoutMs} ms`, { hint: 'see `bulwark redis status`; the failover may still finish (failover-timeout)' });
  }
  throw new BulwarkError('BACKEND_UNAVAILABLE', `no Sentinel of ${name} accepted the failover: ${errors.join('; ')}`, { hint: 'a failover needs a replica that is linked and healthy; see `bulwark redis status`' });
}
