/**
 * Which Redis member a backup reads its RDB from: a healthy replica (link up,
 * no sync in progress, at most `health_check.max_lag` bytes behind its master)
 * so the master does not fork for the dump, the master when no replica is
 * healthy or `backup_from: master` says so. Every member is asked its
 * `INFO replication`; the one chosen is recorded in the snapshot's metadata.
 */
import type { DatabaseConfig } from '../../config/index.js';
import { BulwarkError } from '../../core/errors.js';
import { RespConnection } from '../../core/resp.js';

const ASK_TIMEOUT_MS = 3_000;

export interface RedisSourceChoice {
  member: { name: string; host: string; port: number };
  role: 'master' | 'replica';
  /** A replica's bytes behind its master when it was chosen. */
  lagBytes?: number;
  why: string;
}

interface MemberInfo { name: string; host: string; port: number; info?: Map<string, string>; error?: string }

async function replicationInfo(host: string, port: number, password: string | undefined): Promise<Map<string, string>> {
  const connection = new RespConnection(host, port, 1_048_576);
  const timer = setTimeout(() => connection.destroy(new Error(`no answer within ${ASK_TIMEOUT_MS} ms`)), ASK_TIMEOUT_MS);
  try {
    await connection.connected();
    if (password !== undefined) await connection.command(['AUTH', password]);
    const text = await connection.command(['INFO', 'replication']);
    const fields = new Map<string, string>();
    for (const line of String(text).split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (!line.startsWith('#') && colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
    }
    return fields;
  } finally {
    clearTimeout(timer);
    connection.destroy();
  }
}

export async function chooseRedisSource(name: string, database: DatabaseConfig): Promise<RedisSourceChoice> {
  const redis = database.redis!;
  const members: MemberInfo[] = await Promise.all(redis.members.map(async (m) => {
    try {
      return { name: m.name, host: m.host, port: m.port, info: await replicationInfo(m.host, m.port, redis.password) };
    } catch (err) {
      const message = (err as Error).message;
      return { name: m.name, host: m.host, port: m.port, error: redis.password ? message.split(redis.password).join('***') : message };
    }
  }));
  const master = members.find((m) => m.info?.get('role') === 'master');
  const at = (m: MemberInfo) => ({ name: m.name, host: m.host, port: m.port });
  if (redis.backup_from === 'replica' && master) {
    const masterOffset = Number(master.info!.get('master_repl_offset') ?? 0);
    const maxLag = database.health_check?.max_lag ?? Number.POSITIVE_INFINITY;
    const healthy = members
      .filter((m) => m.info?.get('role') === 'slave' && m.info.get('master_link_status') === 'up' && m.info.get('master_sync_in_progress') !== '1')
      .map((m) => ({ m, lag: Math.max(0, masterOffset - Number(m.info!.get('slave_repl_offset') ?? 0)) }))
      .filter(({ lag }) => lag <= maxLag)
      .sort((a, b) => a.lag - b.lag);
    const best = healthy[0];
    if (best) return { member: at(best.m), role: 'replica', lagBytes: best.lag, why: `healthy replica, ${best.lag} bytes behind ${master.name}` };
    return { member: at(master), role: 'master', why: 'no replica is linked, synced and within max_lag; read from the master' };
  }
  if (master) return { member: at(master), role: 'master', why: redis.backup_from === 'master' ? 'backup_from: master' : 'the master' };
  const problems = members.map((m) => `${m.name} (${m.host}:${m.port}): ${m.error ?? `role ${m.info?.get('role') ?? 'unknown'}`}`).join('; ');
  throw new BulwarkError('BACKEND_UNAVAILABLE', `no member of ${name} answers as the Redis master, so no RDB can be read safely: ${problems}`, {
    hint: 'check that the members are running and the password is right; during a failover, run the backup again when it is over',
  });
}
