/**
 * `bulwark db switchover` without etcd: a planned, lossless switchover that
 * this process carries out itself, for a primary on this host (a member with
 * `data_dir`) whose servers were started with `pg_ctl`. Without etcd there is
 * no leader lease and no member manager: automatic failover is off, and this
 * is the only way the primary changes.
 *
 * 1. Ask every member `pg_is_in_recovery()`: exactly one must accept writes.
 *    The target must be a standby streaming from it (its `pg_stat_replication`,
 *    application_name = member name). The new primary's replication slots for
 *    the other members are created on the target while it is still a standby
 *    (a physical slot made there keeps WAL from its last restartpoint, which
 *    every member that will follow it still needs).
 * 2. `pg_ctl stop -m fast` on the old primary: the WAL senders ship everything
 *    up to the shutdown checkpoint before the server exits. Wait until the
 *    target has received past that checkpoint (`pg_controldata`'s latest
 *    checkpoint location). If it does not within the bound, the old primary is
 *    started again as a primary: nothing was lost and nothing changed.
 * 3. `pg_promote()` the target; the old primary gets standby.signal,
 *    primary_conninfo and primary_slot_name and starts with `pg_ctl` as the new
 *    primary's standby; other replicas are re-pointed (ALTER SYSTEM + reload).
 *    In synchronous mode the new primary then waits for `ANY 1 (the others)`.
 *
 * The write pause is measured from the old primary's stop to the new primary
 * answering `pg_is_in_recovery() = false`. No acknowledged commit can be lost:
 * the old primary accepts nothing after the shutdown began, and the target has
 * every byte it wrote before it is promoted.
 */
import { constants } from 'node:fs';
import { access, readFile, realpath, rm, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BulwarkError, errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { isWritable, probeMember, probeMembers, type ControlTopology, type DirectView } from './control.js';
import { formatLsn, parseLsn, type Lsn } from './decide.js';
import { queryRows, withClient, type PgEndpoint } from './pg-query.js';
import { isRunning, pgCtl, pgCtlStart, pgCtlStartCommand, prepareLogFile } from './pg-ctl.js';
import { PostgresMember, synchronousStandbyNames, type RunAs } from './postgres-process.js';
import { sleep } from '../core/time.js';
import { processAlive } from '../core/process.js';

export interface LocalSwitchoverMember {
  name: string;
  host: string;
  port: number;
  /** Set: the member's data directory is on this host. The old primary must have one. */
  dataDir?: string;
}

export interface LocalSwitchoverOptions {
  database: string;
  members: readonly LocalSwitchoverMember[];
  /** The standby to promote; undefined: the streaming standby that has flushed the most WAL. */
  to?: string;
  binDir: string;
  /** Unix socket directory passed to `pg_ctl start -o "-k ..."` (and where the lock file goes). */
  socketDir: string;
  /** The non-root user PostgreSQL runs as; pg_ctl and pg_controldata run as it. */
  runAs?: RunAs;
  superuser: string;
  password: string;
  synchronousMode: boolean;
  /** Strict: set the synchronous standbys even when none of them streams (writes then wait). */
  synchronousModeStrict?: boolean;
  /** How long the target may take to receive the old primary's shutdown checkpoint; 10 s. */
  catchUpTimeoutMs?: number;
  /** How long the old primary and re-pointed replicas may take to stream from the new primary; 30 s. */
  followTimeoutMs?: number;
  /** Bound on each question to a member; 2 s. */
  probeTimeoutMs?: number;
  onStep?: (text: string) => void;
  logger?: Logger;
}

export interface LocalSwitchoverResult {
  database: string;
  from: string;
  to: string;
  /** The old primary's shutdown checkpoint: the last WAL record it wrote. */
  checkpoint: string;
  /** The new primary's timeline after the promotion. */
  timeline: number | null;
  /** Old primary's stop began → new primary answered pg_is_in_recovery() = false. */
  writePauseMs: number;
  /** The whole command, checks included, until the standbys stream from the new primary. */
  totalMs: number;
  /** Where pg_ctl writes the old primary's server log. */
  logFile: string;
  /** Whether the old primary runs as a standby of the new one and streams from it. */
  oldPrimaryStreaming: boolean;
  /** Other replicas pointed at the new primary. */
  repointed: string[];
  /** Members streaming from the new primary at the end. */
  streaming: string[];
  /** Set on the new primary; '' is asynchronous. */
  synchronousStandbyNames: string;
  /** Things that need a look but did not stop the switchover (a replica not re-pointed, ...). */
  warnings: string[];
  steps: string[];
}

const TOOLS = ['pg_ctl', 'pg_controldata'];

export async function localSwitchover(o: LocalSwitchoverOptions): Promise<LocalSwitchoverResult> {
  const started = performance.now();
  const steps: string[] = [];
  const step = (text: string): void => {
    steps.push(text);
    o.onStep?.(text);
  };
  const log = (o.logger ?? silentLogger()).child({ component: 'local-switchover', database: o.database });
  const probeTimeoutMs = o.probeTimeoutMs ?? 2000;
  const call = { timeoutMs: probeTimeoutMs };

  if (o.to !== undefined && !o.members.some((m) => m.name === o.to)) {
    throw new BulwarkError('USAGE', `--to ${o.to}: database ${o.database} has no member "${o.to}"`, { hint: `members: ${o.members.map((m) => m.name).join(', ')}` });
  }
  for (const tool of TOOLS) {
    await access(join(o.binDir, tool), constants.X_OK).catch(() => {
      throw new BulwarkError('USAGE', `${tool} not found in ${o.binDir}`, { hint: `install the PostgreSQL server package, or set databases.${o.database}.postgres.bin_dir` });
    });
  }
  const unlock = await lock(o);
  try {
    // ------------------------------------------------------------ 1. who is who
    const plan = await checkTopology(o, call);
    const { primary, target } = plan;
    step(`${primary.name} is the primary (timeline ${plan.primaryView.timeline ?? '?'}, ${plan.primaryView.lsn ?? '?'}); ${target.name} streams from it${plan.seenOthers ? `; ${plan.seenOthers}` : ''}`);
    const others = o.members.filter((m) => m.name !== target.name).map((m) => m.name);
    const createdSlots = await ensureSlotsReporting(endpointOf(o, target), others, call);
    step(`replication slots on ${target.name} for ${others.join(', ')}${createdSlots.length > 0 ? ` (created ${createdSlots.join(', ')} while it is still a standby)` : ' (present)'}`);

    // ------------------------------------------------------------ 2. stop, catch up
    const oldPg = memberOf(o, primary);
    const logFile = await prepareLogFile(o, primary);
    const pauseStart = performance.now();
    try {
      await pgCtl(o, ['stop', '-D', primary.dataDir, '-m', 'fast', '-w', '-t', '60']);
    } catch (err) {
      if (await isRunning(o, primary.dataDir)) {
        await dropSlots(endpointOf(o, target), createdSlots, call).catch(() => undefined);
        throw new BulwarkError('BACKEND_UNAVAILABLE', `switchover of ${o.database} aborted: ${primary.name} did not stop within 60 s (${errorMessage(err)}); it is still the primary, nothing changed`, {
          hint: `see ${primary.name}'s server log; long transactions or a stuck backend keep a fast shutdown waiting`,
        });
      }
    }
    const state = await oldPg.controlState();
    if (state !== 'shut down') {
      await restartAsPrimary(o, primary, logFile, `${primary.name} stopped but pg_controldata says "${state}", not "shut down"`, target, createdSlots);
    }
    const checkpoint = await oldPg.checkpointLsn();
    step(`stopped ${primary.name} (pg_ctl stop -m fast): shutdown checkpoint ${formatLsn(checkpoint)}`);
    const catchUpMs = o.catchUpTimeoutMs ?? 10_000;
    const caughtUp = await waitReceived(endpointOf(o, target), checkpoint, catchUpMs, probeTimeoutMs);
    if (!caughtUp.ok) {
      await restartAsPrimary(o, primary, logFile,
        `${target.name} did not receive ${primary.name}'s last WAL (shutdown checkpoint ${formatLsn(checkpoint)}) within ${Math.round(catchUpMs / 100) / 10} s (${caughtUp.received === undefined ? 'it did not answer' : `it has ${formatLsn(caughtUp.received)}`})`,
        target, createdSlots);
    }
    step(`${target.name} received past it (${formatLsn(caughtUp.received!)}) ${Math.round(performance.now() - pauseStart)} ms after the stop began`);

    // ------------------------------------------------------------ 3. promote
    await promote(o, target, primary, checkpoint);
    const writePauseMs = performance.now() - pauseStart;
    const promoted = await probeMember({ name: target.name, endpoint: endpointOf(o, target) }, call);
    step(`promoted ${target.name}: it accepts writes on timeline ${promoted.timeline ?? '?'}; writes were paused ${(writePauseMs / 1000).toFixed(2)} s`);
    log.info({ from: primary.name, to: target.name, checkpoint: formatLsn(checkpoint), writePauseMs }, 'switchover: new primary accepts writes');

    const settled = await settleAfterPromotion(o, plan, logFile, step);
    return {
      database: o.database, from: primary.name, to: target.name, checkpoint: formatLsn(checkpoint), timeline: promoted.timeline ?? null,
      writePauseMs, totalMs: performance.now() - started, logFile, ...settled, steps,
    };
  } finally {
    await unlock();
  }
}

/**
 * After the promotion: the other replicas re-pointed at the new primary, the old primary started as its
 * standby, the wait for them to stream, the synchronous standbys set, the old primary's stale slots dropped.
 * Nothing here undoes the switchover: what fails becomes a warning.
 */
async function settleAfterPromotion(o: LocalSwitchoverOptions, plan: Topology, logFile: string, step: (text: string) => void): Promise<Settled> {
  const { primary, target } = plan;
  const call = { timeoutMs: o.probeTimeoutMs ?? 2000 };
  const probeTimeoutMs = call.timeoutMs;
  const oldPg = memberOf(o, primary);
  const warnings: string[] = [];
  const newEndpoint = endpointOf(o, target);
  const repointed: string[] = [];
  for (const view of plan.views.filter((v) => v.name !== primary.name && v.name !== target.name)) {
    const m = o.members.find((x) => x.name === view.name)!;
    if (!view.reachable || view.role !== 'replica') {
      warnings.push(`${m.name} ${view.reachable ? 'was not a replica' : `did not answer (${view.error ?? 'unreachable'})`}: it was not re-pointed; set its primary_conninfo to ${target.name} (${target.host}:${target.port}) when it is back`);
      continue;
    }
    try {
      // follow() only talks SQL: the data directory is not used.
      await memberOf(o, { ...m, dataDir: m.dataDir ?? '' }).follow(newEndpoint, { timeoutMs: 5000 });
      repointed.push(m.name);
    } catch (err) {
      warnings.push(`${m.name} could not be re-pointed to ${target.name}: ${errorMessage(err)}`);
    }
  }
  if (repointed.length > 0) step(`re-pointed ${repointed.join(', ')} to ${target.name} (primary_conninfo, primary_slot_name, reload)`);

  // The old primary, as the new one's standby. writeStandbyConfig also drops synchronous_standby_names.
  let oldPrimaryStarted = false;
  try {
    await oldPg.writeStandbyConfig(newEndpoint);
    await pgCtlStart(o, primary, logFile);
    oldPrimaryStarted = true;
    step(`${primary.name}: standby.signal, primary_conninfo → ${target.name}, slot ${primary.name}; started with pg_ctl (server log ${logFile})`);
  } catch (err) {
    warnings.push(`${primary.name} did not start as ${target.name}'s standby: ${errorMessage(err)} (server log ${logFile})`);
  }

  const expected = [...(oldPrimaryStarted ? [primary.name] : []), ...repointed];
  const streaming = await waitStreaming(newEndpoint, expected, o.followTimeoutMs ?? 30_000, probeTimeoutMs);
  const late = expected.filter((n) => !streaming.includes(n));
  if (late.length > 0) warnings.push(`${late.join(', ')} ${late.length === 1 ? 'does' : 'do'} not stream from ${target.name} yet; see ${late.includes(primary.name) ? `${logFile} and ` : ''}\`bulwark db status ${o.database}\``);
  else if (expected.length > 0) step(`${expected.join(', ')} ${expected.length === 1 ? 'streams' : 'stream'} from ${target.name}`);
  const oldPrimaryStreaming = streaming.includes(primary.name);

  let syncNames = '';
  if (o.synchronousMode) {
    const standbys = o.members.filter((m) => m.name !== target.name).map((m) => m.name);
    if (standbys.length > 0 && (streaming.some((n) => standbys.includes(n)) || o.synchronousModeStrict)) {
      try {
        await memberOf(o, { ...target, dataDir: target.dataDir ?? '' }).setSynchronousStandbys(standbys, { timeoutMs: 5000 });
        syncNames = synchronousStandbyNames(standbys);
        step(`synchronous_standby_names on ${target.name}: ${syncNames}`);
      } catch (err) {
        warnings.push(`synchronous_standby_names could not be set on ${target.name} (it commits asynchronously): ${errorMessage(err)}`);
      }
    } else {
      warnings.push(`no standby streams from ${target.name}: it commits asynchronously until one does and synchronous_standby_names is set`);
    }
  }

  if (oldPrimaryStarted) {
    // Slots the old primary kept for the others: on a standby nobody uses them, and they would hold its WAL forever.
    const stale = o.members.filter((m) => m.name !== primary.name).map((m) => m.name);
    const dropped = await dropSlots(endpointOf(o, primary), stale, call).catch((err: unknown) => {
      warnings.push(`${primary.name}'s old replication slots could not be dropped (they hold WAL back): ${errorMessage(err)}`);
      return [];
    });
    if (dropped.length > 0) step(`dropped ${primary.name}'s old slots ${dropped.join(', ')} (unused on a standby, they would keep its WAL)`);
  }
  return { oldPrimaryStreaming, repointed, streaming, synchronousStandbyNames: syncNames, warnings };
}

type Settled = Pick<LocalSwitchoverResult, 'oldPrimaryStreaming' | 'repointed' | 'streaming' | 'synchronousStandbyNames' | 'warnings'>;

// ---------------------------------------------------------------- checks

type LocalMember = LocalSwitchoverMember & { dataDir: string };

interface Topology {
  primary: LocalMember;
  primaryView: DirectView;
  target: LocalSwitchoverMember;
  views: DirectView[];
  /** What the other members are, for the first step line. */
  seenOthers: string;
}

function describeView(v: DirectView): string {
  if (!v.reachable) return `${v.name} does not answer (${v.error ?? 'unreachable'})`;
  if (v.role === 'primary') return `${v.name} accepts writes`;
  return `${v.name} is a replica (${v.receiver ?? 'not streaming'}${v.upstream ? ` from ${v.upstream}` : ''})`;
}

async function checkTopology(o: LocalSwitchoverOptions, call: { timeoutMs: number }): Promise<Topology> {
  const topology: ControlTopology = {
    database: o.database, synchronousMode: o.synchronousMode, maximumLagOnFailover: 0n,
    members: o.members.map((m) => ({ name: m.name, endpoint: endpointOf(o, m) })),
  };
  const views = await probeMembers(topology, call);
  const seen = views.map(describeView).join('; ');
  const writable = views.filter((v) => v.reachable && v.role === 'primary');
  if (writable.length !== 1) {
    throw new BulwarkError('BAD_REQUEST', writable.length === 0
      ? `no member of ${o.database} accepts writes, so there is no primary to switch over from: ${seen}`
      : `${writable.length} members of ${o.database} accept writes (${writable.map((v) => v.name).join(', ')}): refusing to pick one: ${seen}`, {
      hint: writable.length === 0
        ? 'start the primary first (pg_ctl start -D DATA_DIR), then retry'
        : 'a split brain: stop all but one (pg_ctl stop -D DATA_DIR -m fast), make the others its standbys, then retry',
    });
  }
  const primaryView = writable[0]!;
  const primaryMember = o.members.find((m) => m.name === primaryView.name)!;
  if (o.to === primaryMember.name) {
    throw new BulwarkError('USAGE', `${o.to} is already the primary of ${o.database}`, { hint: 'name a standby with --to' });
  }
  if (primaryMember.dataDir === undefined) {
    throw new BulwarkError('BAD_REQUEST', `the primary ${primaryMember.name} is not on this host (it has no data_dir): without etcd, bulwark switches over only a primary whose data directory it can stop and restart`, {
      hint: `run \`bulwark db switchover\` on ${primaryMember.name}'s host, with data_dir set for it there`,
    });
  }
  const primary: LocalMember = { ...primaryMember, dataDir: primaryMember.dataDir };
  const primaryEndpoint = endpointOf(o, primary);
  const [dirRow] = await queryRows<{ d: string }>(primaryEndpoint, "SELECT current_setting('data_directory') AS d", [], call);
  const [configured, actual] = await Promise.all([realpath(primary.dataDir).catch(() => resolve(primary.dataDir)), realpath(dirRow?.d ?? '').catch(() => dirRow?.d ?? '')]);
  if (configured !== actual) {
    throw new BulwarkError('BAD_REQUEST', `${primary.name} answers on ${primary.host}:${primary.port} from data directory ${dirRow?.d ?? '?'}, not its data_dir ${primary.dataDir}`, {
      hint: `fix data_dir of ${primary.name} in bulwark.yaml: bulwark stops and restarts the server through its data directory`,
    });
  }
  const replication = await queryRows<{ name: string; state: string; flush: string | null }>(primaryEndpoint,
    'SELECT application_name AS name, state, flush_lsn::text AS flush FROM pg_stat_replication ORDER BY application_name', [], call);
  const shown = replication.length === 0 ? 'no standby is connected' : `its pg_stat_replication shows ${replication.map((r) => `${r.name} ${r.state}`).join(', ')}`;
  const streamingMembers = replication.filter((r) => r.state === 'streaming' && o.members.some((m) => m.name === r.name && m.name !== primary.name));
  let targetName = o.to;
  if (targetName === undefined) {
    const best = [...streamingMembers].sort((a, b) => {
      const d = (b.flush ? parseLsn(b.flush) : 0n) - (a.flush ? parseLsn(a.flush) : 0n);
      return d > 0n ? 1 : d < 0n ? -1 : a.name.localeCompare(b.name);
    })[0];
    if (!best) {
      throw new BulwarkError('BAD_REQUEST', `no standby streams from ${primary.name}, so there is nobody to switch over to (${shown})`, {
        hint: `see \`bulwark db status ${o.database}\`; a standby must stream from the primary with application_name = its member name`,
      });
    }
    targetName = best.name;
  } else if (!streamingMembers.some((r) => r.name === targetName)) {
    throw new BulwarkError('BAD_REQUEST', `cannot switch over to ${targetName}: it is not a streaming standby of ${primary.name} (${shown}; ${describeView(views.find((v) => v.name === targetName)!)})`, {
      hint: `see \`bulwark db status ${o.database}\`; name a standby that streams from ${primary.name} (application_name = its member name)`,
    });
  }
  const target = o.members.find((m) => m.name === targetName)!;
  const targetView = views.find((v) => v.name === target.name);
  if (!targetView?.reachable || targetView.role !== 'replica') {
    throw new BulwarkError('BAD_REQUEST', `cannot switch over to ${target.name}: ${targetView ? describeView(targetView) : 'it was not asked'}`, { hint: `see \`bulwark db status ${o.database}\`` });
  }
  const seenOthers = views.filter((v) => v.name !== primary.name && v.name !== target.name).map(describeView).join('; ');
  return { primary, primaryView, target, views, seenOthers };
}

// ---------------------------------------------------------------- the steps

/**
 * The target did not catch up (or the stop was not clean): the old primary starts again as it was,
 * a primary, and the slots made on the target for the attempt go. Always throws.
 */
async function restartAsPrimary(o: LocalSwitchoverOptions, primary: LocalMember, logFile: string, why: string, target: LocalSwitchoverMember, createdSlots: string[]): Promise<never> {
  const hint = `see \`bulwark db status ${o.database}\`; a standby that is behind or not streaming cannot take over without loss`;
  try {
    await unlink(join(primary.dataDir, 'standby.signal')).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await pgCtlStart(o, primary, logFile);
  } catch (err) {
    throw new BulwarkError('BACKEND_UNAVAILABLE', `switchover of ${o.database} aborted: ${why}; and ${primary.name} could not be started again: ${errorMessage(err)}. Nothing was lost (it was stopped cleanly), but there is no primary now`, {
      hint: `start it by hand: ${pgCtlStartCommand(o, primary, logFile)} (server log ${logFile})`,
    });
  }
  const writable = await waitWritable(endpointOf(o, primary), 10_000);
  await dropSlots(endpointOf(o, target), createdSlots, { timeoutMs: 2000 }).catch(() => undefined);
  throw new BulwarkError('BACKEND_UNAVAILABLE', `switchover of ${o.database} aborted: ${why}. ${primary.name} was started again as the primary${writable ? ' and accepts writes' : ' (it does not accept writes yet: see its server log)'}: nothing was lost and nothing changed`, { hint });
}

async function promote(o: LocalSwitchoverOptions, target: LocalSwitchoverMember, primary: LocalMember, checkpoint: Lsn): Promise<void> {
  const endpoint = endpointOf(o, target);
  let failure: unknown;
  try {
    await withClient(endpoint, { timeoutMs: 35_000 }, async (c) => {
      // Inherited from the old primary by the base backup: the new primary sets its own once its standbys stream.
      await c.query("ALTER SYSTEM SET synchronous_standby_names = ''");
      await c.query('SELECT pg_reload_conf()');
      const { rows } = await c.query<{ ok: boolean }>('SELECT pg_promote(true, 30) AS ok');
      if (rows[0]?.ok !== true) throw new BulwarkError('INTERNAL', 'pg_promote did not finish within 30 s');
    });
  } catch (err) {
    failure = err;
  }
  if (await waitWritable(endpoint, failure === undefined ? 5000 : 10_000)) return;
  // The promotion may still be under way: starting the old primary again could make two primaries.
  throw new BulwarkError('BACKEND_UNAVAILABLE', `switchover of ${o.database}: ${target.name} has all of ${primary.name}'s WAL (up to ${formatLsn(checkpoint)}) but did not become writable${failure ? ` (${errorMessage(failure)})` : ''}. ${primary.name} is stopped cleanly; nothing was lost, but no member accepts writes`, {
    hint: `look at ${target.name}'s server log. If it finishes promoting, start ${primary.name} as its standby; if it cannot, start ${primary.name} again as the primary (remove ${join(primary.dataDir, 'standby.signal')} if present, then pg_ctl start -D ${primary.dataDir}), never both`,
  });
}

/** Whether `endpoint`'s pg_last_wal_receive_lsn() went past `lsn` within `timeoutMs`, and what it had. */
async function waitReceived(endpoint: PgEndpoint, lsn: Lsn, timeoutMs: number, callTimeoutMs: number): Promise<{ ok: boolean; received: Lsn | undefined }> {
  const until = performance.now() + timeoutMs;
  let received: Lsn | undefined;
  for (;;) {
    const rows = await queryRows<{ r: string | null }>(endpoint, 'SELECT pg_last_wal_receive_lsn()::text AS r', [], { timeoutMs: callTimeoutMs }).catch(() => []);
    const text = rows[0]?.r;
    if (text) received = parseLsn(text);
    if (received !== undefined && received > lsn) return { ok: true, received };
    if (performance.now() >= until) return { ok: false, received };
    await sleep(20);
  }
}

async function waitWritable(endpoint: PgEndpoint, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    if (await isWritable(endpoint, { timeoutMs: 1000 })) return true;
    if (performance.now() >= until) return false;
    await sleep(20);
  }
}

/** The members of `names` streaming from `endpoint` once they all do, or when `timeoutMs` is over. */
async function waitStreaming(endpoint: PgEndpoint, names: readonly string[], timeoutMs: number, callTimeoutMs: number): Promise<string[]> {
  const until = performance.now() + timeoutMs;
  let streaming: string[] = [];
  for (;;) {
    streaming = await queryRows<{ n: string }>(endpoint, "SELECT application_name AS n FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1", [], { timeoutMs: callTimeoutMs })
      .then((rows) => rows.map((r) => r.n), () => streaming);
    if (names.every((n) => streaming.includes(n)) || performance.now() >= until) return streaming;
    await sleep(50);
  }
}

/** Creates the physical slots that are missing (WAL reserved at once); returns the ones created. */
async function ensureSlotsReporting(endpoint: PgEndpoint, names: readonly string[], call: { timeoutMs: number }): Promise<string[]> {
  return withClient(endpoint, call, async (c) => {
    const created: string[] = [];
    for (const name of names) {
      const { rows } = await c.query<{ n: string }>(
        // In the select list, not in FROM: the function then runs only when the WHERE holds.
        'SELECT (pg_create_physical_replication_slot($1, true)).slot_name::text AS n WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)', [name]);
      if (rows.length > 0) created.push(name);
    }
    return created;
  });
}

/** Drops the inactive physical slots among `names`; returns the ones dropped. */
async function dropSlots(endpoint: PgEndpoint, names: readonly string[], call: { timeoutMs: number }): Promise<string[]> {
  if (names.length === 0) return [];
  const rows = await queryRows<{ n: string }>(endpoint,
    "SELECT slot_name::text AS n FROM pg_replication_slots WHERE slot_type = 'physical' AND NOT active AND slot_name = ANY($1::text[]) ORDER BY 1", [names], call);
  for (const { n } of rows) await queryRows(endpoint, 'SELECT pg_drop_replication_slot($1)', [n], call);
  return rows.map((r) => r.n);
}

// ---------------------------------------------------------------- helpers

/**
 * One switchover of a database at a time on this host: a file in the socket directory holding our
 * pid. A file whose process is gone is taken over.
 */
async function lock(o: LocalSwitchoverOptions): Promise<() => Promise<void>> {
  const path = join(o.socketDir, `.bulwark-switchover-${o.database.replace(/[^\w.-]/g, '_')}.lock`);
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return async () => rm(path, { force: true });
    } catch (err) {
      // No socket directory: no server was started with it, and the checks will say what runs.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return async () => undefined;
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        throw new BulwarkError('INTERNAL', `cannot create the switchover lock ${path}: ${errorMessage(err)}`, { hint: 'the socket directory must exist and be writable by bulwark' });
      }
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
        throw new BulwarkError('BAD_REQUEST', `another switchover of ${o.database} is running on this host (pid ${pid})`, { hint: `wait for it to finish; if no such process runs, remove ${path}` });
      }
      await rm(path, { force: true });
    }
  }
}

function endpointOf(o: LocalSwitchoverOptions, m: LocalSwitchoverMember): PgEndpoint {
  return { host: m.host, port: m.port, user: o.superuser, password: o.password };
}

/** A PostgresMember for files, pg_controldata and SQL only: never started, so never our child. */
function memberOf(o: LocalSwitchoverOptions, m: LocalMember): PostgresMember {
  return new PostgresMember({
    name: m.name, binDir: o.binDir, dataDir: m.dataDir, socketDir: o.socketDir, host: m.host, port: m.port,
    user: o.superuser, password: o.password, runAs: o.runAs, logger: o.logger,
  });
}
