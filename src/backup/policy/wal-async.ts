/**
 * Asynchronous WAL archiving, as pgBackRest's archive-async does it:
 * archive_command (`pushAsync`) only waits for an outcome in the spool, and one
 * long-lived archiver per policy (`runArchiver`) reads PostgreSQL's
 * archive_status, ships every ready file to every repository in parallel and
 * marks each `.ok` only once all of them hold it. The archiver opens the
 * repositories (and derives their keys) once, not once per file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { BulwarkError, errorMessage } from '../../core/errors.js';
import { archiveSegmentToAll, type ArchiveOptions } from '../postgres/wal-archive.js';
import { checkWalFileName } from '../postgres/wal-store.js';
import { listReady, WalSpool, type ArchiverStatus } from '../postgres/wal-spool.js';
import type { BackupsConfig, PolicyConfig } from './repos.js';
import type { RepoWalStore } from './repo-wal-store.js';
import { closeAll, openPolicyWalStores } from './wal-copies.js';
import { SealBuffers, WalSealPool } from './wal-seal-pool.js';

export interface AsyncSettings { spool: string; parallel: number; timeoutMs: number }

export function asyncSettings(name: string, policy: PolicyConfig): AsyncSettings {
  if (!policy.wal_async) throw new BulwarkError('USAGE', `policy ${name} does not archive asynchronously`, { hint: `set backups.policies.${name}.wal_archiving: { spool: /var/spool/bulwark }` });
  return policy.wal_async;
}

export interface PushOptions {
  /** How to start the archiver: argv after the node executable. */
  archiverArgv: (pgWal: string) => string[];
  signal?: AbortSignal;
}

/**
 * archive_command in async mode: succeed once the spool says the file is
 * durable everywhere; start the archiver when none runs; fail with the
 * archiver's own error (PostgreSQL retries) or after the timeout.
 */
export async function pushAsync(name: string, settings: AsyncSettings, walPath: string, options: PushOptions): Promise<'archived'> {
  const file = basename(walPath);
  checkWalFileName(file);
  const spool = new WalSpool(settings.spool, name);
  await spool.create();
  if ((await spool.outcome(file, walPath))?.kind === 'ok') return 'archived';
  await spool.clearError(file); // an old error is not the answer to this attempt
  const pgWal = resolve(dirname(walPath));
  const deadline = Date.now() + settings.timeoutMs;
  let started = await ensureArchiver(spool, options.archiverArgv(pgWal));
  let restarts = 0;
  for (;;) {
    const outcome = await spool.outcome(file, walPath);
    if (outcome?.kind === 'ok') return 'archived';
    if (outcome?.kind === 'error') {
      throw new BulwarkError('BACKEND_UNAVAILABLE', `the WAL archiver could not store ${file}: ${outcome.message}`, { hint: `PostgreSQL retries it; the archiver's log is ${spool.logPath}` });
    }
    if (Date.now() >= deadline) {
      throw new BulwarkError('BACKEND_UNAVAILABLE', `the WAL archiver did not store ${file} within ${Math.round(settings.timeoutMs / 1000)}s`, {
        hint: `PostgreSQL retries it; see ${spool.logPath} and ${spool.statusPath}`,
      });
    }
    await waitForChange(spool.dir, 250, options.signal);
    // The one we started may still be starting up (it takes the pid file once its configuration is loaded).
    if (running(started) || (await spool.archiverAlive())) continue;
    if (++restarts > MAX_RESTARTS) {
      throw new BulwarkError('BACKEND_UNAVAILABLE', `the WAL archiver keeps exiting without storing ${file}: ${await logTail(spool)}`, { hint: `PostgreSQL retries it; the archiver's log is ${spool.logPath}` });
    }
    started = await ensureArchiver(spool, options.archiverArgv(pgWal));
  }
}

const MAX_RESTARTS = 3;

async function logTail(spool: WalSpool): Promise<string> {
  const text = await readFile(spool.logPath, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-4).join(' | ') || 'it wrote nothing to its log';
}

/** Resolves when something in `dir` changes, or after `ms` at the latest. */
function waitForChange(dir: string, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolveWait) => {
    const watcher = watch(dir, () => finish());
    const timer = setTimeout(finish, ms);
    const onAbort = (): void => finish();
    signal?.addEventListener('abort', onAbort, { once: true });
    watcher.on('error', () => finish());
    function finish(): void {
      clearTimeout(timer);
      watcher.close();
      signal?.removeEventListener('abort', onAbort);
      resolveWait();
    }
  });
}

/**
 * Starts a detached archiver unless one is alive, and returns the one it
 * started. The archiver itself takes the pid file, so two racing starts leave one.
 */
async function ensureArchiver(spool: WalSpool, argv: string[]): Promise<ChildProcess | undefined> {
  if (await spool.archiverAlive()) return undefined;
  const log = await open(spool.logPath, 'a', 0o600);
  try {
    const child = spawn(process.execPath, argv, { detached: true, stdio: ['ignore', log.fd, log.fd] });
    child.on('error', () => undefined);
    child.unref();
    return child;
  } finally {
    await log.close();
  }
}

function running(child: ChildProcess | undefined): boolean {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/**
 * Takes the archiver's pid file; false when a live archiver holds it. A pid
 * file left by a killed archiver is taken over.
 */
export async function claimArchiver(spool: WalSpool): Promise<boolean> {
  await spool.create();
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(spool.pidPath, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return true;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
      if (await spool.archiverAlive()) return false;
      await rm(spool.pidPath, { force: true });
    }
  }
  return false;
}

export interface ArchiverOptions {
  backups: BackupsConfig;
  name: string;
  policy: PolicyConfig;
  pgWal: string;
  logger: Logger;
  /** Exit after this long with nothing to archive. */
  idleMs?: number;
  signal?: AbortSignal;
}

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/** The archiver loop; returns when idle for `idleMs`, or aborted. Holds the policy's pid file while it runs. */
export async function runArchiver(options: ArchiverOptions): Promise<void> {
  const settings = asyncSettings(options.name, options.policy);
  const spool = new WalSpool(settings.spool, options.name);
  if (!(await claimArchiver(spool))) {
    options.logger.info({ policy: options.name }, 'another archiver runs for this policy; leaving');
    return;
  }
  const status: ArchiverStatus = { pid: process.pid, updatedAt: '', pending: 0, oldestPendingSince: null, lastArchived: null, lastArchivedAt: null, archived: 0, lastError: null, lastErrorAt: null };
  let stores: Awaited<ReturnType<typeof openPolicyWalStores>> = [];
  try {
    stores = await openPolicyWalStores(options.backups, options.name, options.policy, options.signal);
    options.logger.info({ policy: options.name, repositories: stores.map((s) => s.repository), pgWal: options.pgWal, parallel: settings.parallel }, 'WAL archiver started');
    await archiveLoop(options, settings, spool, stores, status);
  } catch (err) {
    // Nothing can be archived (a repository cannot be opened): every waiting archive_command gets the reason.
    const message = err instanceof BulwarkError ? err.describe() : errorMessage(err);
    options.logger.error({ err: message }, 'WAL archiver failed');
    const ready = await listReady(options.pgWal).catch(() => []);
    for (const { name } of ready) await spool.markError(name, message).catch(() => undefined);
    status.lastError = message;
    status.lastErrorAt = new Date().toISOString();
    await writeStatus(spool, status, ready).catch(() => undefined);
    throw err;
  } finally {
    await closeAll(stores);
    await rm(spool.pidPath, { force: true });
  }
}

/**
 * A continuous pipeline: up to `parallel` files in flight, oldest first, a
 * new one started as soon as one finishes or PostgreSQL marks another ready
 * (no batch boundaries, so the oldest waiting file never waits on a batch).
 */
async function archiveLoop(options: ArchiverOptions, settings: AsyncSettings, spool: WalSpool, stores: Awaited<ReturnType<typeof openPolicyWalStores>>, status: ArchiverStatus): Promise<void> {
  const idleMs = options.idleMs ?? 30_000;
  const targets = stores.map((s) => ({ name: `repository ${s.repository}`, store: s.store }));
  const pool = new WalSealPool(settings.parallel);
  const inFlight = new Map<string, Promise<void>>();
  // What is known about ready files, so that each turn of the loop costs two directory reads rather than
  // several system calls per waiting file (with a backlog of 64, that was most of this thread's time).
  const archived = new Set<string>();
  const readySince = new Map<string, number>();
  const waker = new Waker(join(options.pgWal, 'archive_status'));
  let idleSince = Date.now();
  let retryMs = RETRY_MIN_MS;
  let retryAt = 0;
  const start = (name: string): void => {
    inFlight.set(name, shipOne(name, targets, spool, options, status, pool).then((ok) => {
      inFlight.delete(name);
      if (ok) archived.add(name);
      // A repository is failing: pause before trying again, longer each time, so a dead link is not hammered.
      if (ok) retryMs = RETRY_MIN_MS;
      else [retryAt, retryMs] = [Date.now() + retryMs, Math.min(retryMs * 2, RETRY_MAX_MS)];
      waker.wake();
    }));
  };
  try {
    while (!options.signal?.aborted) {
      const ready = await listReady(options.pgWal, readySince);
      const names = new Set(ready.map((r) => r.name));
      for (const name of archived) if (!names.has(name)) archived.delete(name);
      await spool.forgetAllBut(new Set([...names, ...inFlight.keys()]));
      const todo: typeof ready = [];
      for (const r of ready) {
        if (inFlight.has(r.name) || archived.has(r.name)) continue;
        if ((await spool.outcome(r.name, join(options.pgWal, r.name)))?.kind === 'ok') archived.add(r.name);
        else todo.push(r);
      }
      await writeStatus(spool, status, ready.filter((r) => inFlight.has(r.name) || todo.includes(r)));
      if (todo.length === 0 && inFlight.size === 0) {
        if (Date.now() - idleSince >= idleMs) return;
        await waker.wait(500, options.signal);
        continue;
      }
      idleSince = Date.now();
      if (Date.now() >= retryAt) for (const r of todo.slice(0, settings.parallel - inFlight.size)) start(r.name);
      await waker.wait(Math.max(50, Math.min(500, retryAt - Date.now())), options.signal);
    }
  } finally {
    await Promise.allSettled(inFlight.values());
    waker.close();
    await pool.close();
  }
}

/** Wakes the archiver loop when PostgreSQL marks a file ready, when a file is done, or after a timeout. */
class Waker {
  private readonly watcher: FSWatcher;
  private pending: (() => void) | undefined;
  private woken = false;

  constructor(dir: string) {
    this.watcher = watch(dir, () => this.wake());
    this.watcher.on('error', () => undefined);
  }

  wake(): void {
    this.woken = true;
    this.pending?.();
  }

  async wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return;
    }
    await new Promise<void>((resolveWait) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.pending = undefined;
        this.woken = false;
        resolveWait();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.pending = done;
    });
  }

  close(): void {
    this.watcher.close();
  }
}

/** Ships one file to every repository and records the outcome; true when it is archived. */
async function shipOne(name: string, targets: ShipTargets, spool: WalSpool, options: ArchiverOptions, status: ArchiverStatus, pool: WalSealPool): Promise<boolean> {
  const buffers = sealBuffers.pop() ?? new SealBuffers(SEGMENT_BYTES);
  try {
    await archiveSegmentToAll(targets, join(options.pgWal, name), options.signal, { scratch: buffers.input, putMissing: sealedPut(pool, buffers) });
    await spool.markOk(name);
    status.archived++;
    status.lastArchived = name;
    status.lastArchivedAt = new Date().toISOString();
    return true;
  } catch (err) {
    const message = err instanceof BulwarkError ? err.describe() : errorMessage(err);
    status.lastError = message;
    status.lastErrorAt = new Date().toISOString();
    options.logger.warn({ file: name, err: message }, 'WAL file not archived');
    await spool.markError(name, message).catch(() => undefined);
    return false;
  } finally {
    sealBuffers.push(buffers);
  }
}

type ShipTargets = Array<{ name: string; store: RepoWalStore }>;

/**
 * Stores a WAL file in the repositories that lack it: compressed once and
 * sealed once per key in the worker pool, then written from the shared buffers.
 */
function sealedPut(pool: WalSealPool, buffers: SealBuffers): NonNullable<ArchiveOptions<RepoWalStore>['putMissing']> {
  return async (name, data, missing, signal) => {
    // A segment larger than the usual 16 MiB was read into a buffer of its own: grow, for the next one.
    if (data.buffer !== buffers.input.buffer) buffers.ensureInput(data.length);
    const keys = [...new Set(missing.map((store) => store.encryptionKey))];
    const sealed = await pool.seal(name, keys, data, buffers.outputsFor(keys.length, data.length, Buffer.byteLength(name)));
    return Promise.allSettled(missing.map((store) => store.putSealed(name, sealed[keys.indexOf(store.encryptionKey)]!, signal)));
  };
}

/** Buffers kept for the archiver's life, one set per file in flight: a fresh 16 MiB buffer per segment cost ~45 ms of page faults here. */
const SEGMENT_BYTES = 16 * 1024 * 1024;
const sealBuffers: SealBuffers[] = [];

async function writeStatus(spool: WalSpool, status: ArchiverStatus, pending: Array<{ since: number }>): Promise<void> {
  status.updatedAt = new Date().toISOString();
  status.pending = pending.length;
  status.oldestPendingSince = pending.length > 0 ? new Date(Math.min(...pending.map((p) => p.since))).toISOString() : null;
  await spool.writeStatus(status);
}
