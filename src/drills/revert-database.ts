/**
 * Reverting what a failover drill did to a managed database: its writer's
 * schema is dropped on whichever member is the primary now, and a member it
 * killed must be back in the cluster. The drill never starts PostgreSQL
 * itself: the member's HA loop (in `bulwark up`) owns its data directory and
 * rejoins it as a replica of the new leader; reverting a kill is waiting for
 * that and checking it.
 */
import type { BulwarkConfig } from '../config/index.js';
import { BulwarkError } from '../core/errors.js';
import { requestSwitchover, withClient } from '../postgres-ha/index.js';
import { memberRejoined, openHaDatabase, waitForCluster } from './failover-cluster.js';
import type { JournalEntry } from './journal.js';

/** What reverting a database entry needs: the configuration to reach the database. */
export interface RevertEnv {
  config?: BulwarkConfig;
  signal?: AbortSignal;
  /** How long to wait for a writable primary, or for a killed member to rejoin; 3 min by default. */
  waitMs?: number;
}

/** The only schemas a drill creates; a journal naming another is not obeyed. */
export const DRILL_SCHEMA = /^bulwark_drill_[0-9a-f]{8,32}$/;

export const REVERT_WAIT_MS = 3 * 60_000;

export async function revertDatabaseEntry(entry: Extract<JournalEntry, { kind: 'pg-schema' | 'pg-rejoin' | 'pg-failback' }>, env: RevertEnv): Promise<string> {
  if (!env.config) throw new BulwarkError('INTERNAL', `reverting a change to database ${entry.database} needs the configuration`);
  const db = openHaDatabase(env.config, entry.database);
  try {
    const waitMs = env.waitMs ?? REVERT_WAIT_MS;
    if (entry.kind === 'pg-rejoin') {
      const view = await waitForCluster(db, (v) => memberRejoined(v, entry.member), waitMs, `${entry.member} back as the leader or a streaming replica (its HA loop rejoins it)`, env.signal);
      return entry.member === view.leader ? `${entry.member} leads ${entry.database}` : `${entry.member} streams from ${view.leader} again`;
    }
    if (entry.kind === 'pg-failback') return await failback(db, entry.member, waitMs, env.signal);
    return await dropSchema(db, entry.schema, waitMs, env.signal);
  } finally {
    await db.close();
  }
}

async function dropSchema(db: ReturnType<typeof openHaDatabase>, schema: string, waitMs: number, signal?: AbortSignal): Promise<string> {
  if (!DRILL_SCHEMA.test(schema)) throw new BulwarkError('INTERNAL', `the journal names schema "${schema}", which is not a drill's schema: not dropped`, { hint: 'the journal is damaged; check by hand' });
  const view = await waitForCluster(db, (v) => v.leader !== undefined && v.direct.some((d) => d.name === v.leader && d.role === 'primary'), waitMs, `a writable primary to drop schema ${schema} on`, signal);
  const endpoint = db.topology.members.find((m) => m.name === view.leader)!.endpoint;
  // Synchronous mode: the drop waits for a standby's acknowledgement like any commit.
  await withClient(endpoint, { signal, timeoutMs: 60_000 }, (c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  return `dropped schema ${schema} on ${view.leader}`;
}

/** Once the cluster is whole again: a switchover back to the member that led before the drill, and until it leads with every member streaming. */
async function failback(db: ReturnType<typeof openHaDatabase>, member: string, waitMs: number, signal?: AbortSignal): Promise<string> {
  const view = await waitForCluster(db, (v) => v.problems.length === 0, waitMs, `the cluster whole before switching back to ${member}`, signal);
  if (view.leader === member) return `${member} leads ${db.name}`;
  await requestSwitchover({ etcd: db.etcd.client, keys: db.etcd.keys, topology: db.topology, signal }, member);
  await waitForCluster(db, (v) => v.problems.length === 0 && v.leader === member, waitMs, `${member} leading again, every member streaming from it`, signal);
  return `switched ${db.name} back from ${view.leader} to ${member}`;
}
