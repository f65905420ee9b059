/**
 * `bulwark db init` on a host whose members join a cluster that runs elsewhere:
 * each local member is copied with pg_basebackup over the network from the
 * current primary (the etcd leader, or `--primary` naming a member on another
 * host), through its own replication slot (created on the primary if missing),
 * started until it streams, and stopped cleanly; `bulwark up` runs it from there.
 * Nothing is written to etcd: the cluster's keys belong to its running managers.
 */
import { BulwarkError, errorMessage } from '../core/errors.js';
import { sleep } from '../core/time.js';
import {
  controlData, ensureDir, lockDataDirs, member, startTracked,
  type BootstrapMember, type BootstrapOptions, type BootstrapResult, type LocalMember,
} from './bootstrap.js';
import { queryRows, type PgEndpoint } from './pg-query.js';
import type { PostgresMember } from './postgres-process.js';

/** The member to copy from, when this host joins a running cluster; undefined: this host initialises it. */
export async function joinSource(o: BootstrapOptions): Promise<BootstrapMember | undefined> {
  if (o.adopt) return undefined;
  const named = o.members.find((m) => m.name === o.primary);
  if (named) return named.dataDir === undefined ? named : undefined;
  if (!o.etcd) return undefined;
  const leader = await o.etcd.client.get(o.etcd.keys.leader, { timeoutMs: 5000 }).catch((err: unknown) => {
    throw new BulwarkError('COORDINATION_UNAVAILABLE', `cannot read ${o.etcd?.keys.leader} from etcd: ${errorMessage(err)}`, { cause: err, hint: 'check coordination.etcd and that etcd answers' });
  });
  const leaderMember = leader.kv ? o.members.find((m) => m.name === leader.kv?.value) : undefined;
  // A leader on this host means the cluster runs here already: the usual refusal says so.
  return leaderMember?.dataDir === undefined ? leaderMember : undefined;
}

export async function joinCluster(o: BootstrapOptions, local: LocalMember[], source: BootstrapMember, steps: string[], step: (t: string) => void): Promise<BootstrapResult> {
  const endpoint: PgEndpoint = { host: source.host, port: source.port, user: o.superuser, password: o.password };
  const locks = await lockDataDirs(local);
  const started: PostgresMember[] = [];
  try {
    await requirePrimary(o, source, endpoint);
    await ensureDir(o.socketDir, o.runAs, 0o755, false);
    for (const m of local) {
      await ensureDir(m.dataDir, o.runAs, 0o700, true);
      await ensureSlot(endpoint, m.name);
      const replica = member(o, m);
      await replica.basebackup(endpoint);
      await startTracked(replica, started, o);
      await waitStreamingFrom(endpoint, m.name, o.timeoutMs ?? 60_000);
      step(`base backup of ${m.name} over the network from ${source.name} (${source.host}:${source.port}) into ${m.dataDir}; it streams`);
    }
    for (const pg of [...started].reverse()) await pg.stop();
    started.length = 0;
    step(`stopped ${local.map((m) => m.name).join(', ')} cleanly`);
  } catch (err) {
    throw new BulwarkError(err instanceof BulwarkError ? err.code : 'INTERNAL', `joining ${o.database} from ${source.name} failed: ${errorMessage(err)}`, {
      cause: err, hint: `check that ${source.name} (${source.host}:${source.port}) runs as primary and lets this host in (its pg_hba.conf names its peers' hosts); empty ${local.map((m) => m.dataDir).join(', ')} before trying again`,
    });
  } finally {
    for (const pg of started) await pg.stop().catch(() => pg.fence());
    await Promise.all(locks.map((lock) => lock.release()));
  }
  const dataChecksums: Record<string, boolean> = {};
  for (const m of local) dataChecksums[m.name] = (await controlData(o, m.dataDir)).checksums;
  return {
    database: o.database, mode: 'join', primary: source.name, replicas: local.map((m) => m.name),
    remote: o.members.filter((m) => m.dataDir === undefined).map((m) => m.name), slots: local.map((m) => m.name), dataChecksums, sync: undefined, steps,
  };
}

async function requirePrimary(o: BootstrapOptions, source: BootstrapMember, endpoint: PgEndpoint): Promise<void> {
  const rows = await queryRows<{ r: boolean }>(endpoint, 'SELECT pg_is_in_recovery() AS r', [], { timeoutMs: 5000 });
  if (rows[0]?.r !== false) {
    throw new BulwarkError('BAD_REQUEST', `${source.name} is a standby: ${o.database}'s members join from the primary`, { hint: `see \`bulwark db status ${o.database}\`, and name the primary with --primary` });
  }
}

/** The leader makes a slot for every peer each term; one made here covers a member added since. */
async function ensureSlot(endpoint: PgEndpoint, name: string): Promise<void> {
  await queryRows(endpoint, 'SELECT pg_create_physical_replication_slot($1) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)', [name], { timeoutMs: 10_000 });
}

/** Polls the primary's pg_stat_replication: it announces nothing when a standby connects. */
async function waitStreamingFrom(endpoint: PgEndpoint, name: string, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const rows = await queryRows<{ n: string }>(endpoint, "SELECT application_name AS n FROM pg_stat_replication WHERE state = 'streaming'", [], { timeoutMs: 2000 }).catch(() => []);
    if (rows.some((r) => r.n === name)) return;
    if (performance.now() > until) throw new BulwarkError('BACKEND_UNAVAILABLE', `${name} did not stream within ${timeoutMs} ms`);
    await sleep(100);
  }
}
