/**
 * WAL archiving benchmark: how many WAL segments a second each archiver ships
 * while PostgreSQL writes WAL as fast as one client can, and how far behind it
 * falls. Contenders, each on a fresh PostgreSQL cluster (16 MiB segments) on
 * this machine, one after another in one run, each with one encrypted,
 * compressed repository on local disk:
 *
 * WAL comes from 1 MiB pg_logical_emit_message() records (half random, half
 * text) written by one client as fast as the server takes them.
 *
 *  - bulwark-sync: `wal_archiving: true` (a process per segment: the old way);
 *  - bulwark-async: `wal_archiving: { spool, parallel }` (archive_command waits
 *    on the spool; one archiver ships ready segments in parallel);
 *  - pgbackrest-lz4 / pgbackrest-gz: pgBackRest (Debian package) with
 *    archive-async=y, process-max = --parallel, aes-256-cbc, lz4 or its default gz.
 *
 * Per contender: segments written, the time from the first write until
 * PostgreSQL reports the last one archived (pg_stat_archiver), segments/s over
 * that time, the tail after writing stopped, and the archive lag sampled every
 * 100 ms (segments marked .ready and not yet archived; age of the oldest).
 * Then the same number of segments is written with archive_command empty and
 * the command restored: the time to drain that backlog is the archiver's own
 * rate, with no writer competing for the two cores.
 *
 *   npx tsx bench/wal-archive.ts [--segments 64] [--parallel 4] [--contenders bulwark-sync,bulwark-async,pgbackrest-lz4,pgbackrest-gz]
 *       [--bulwark "node dist/cli/main.js"] [--dir DIR] [--keep] [--json]
 *
 * Needs `npm run build` first (PostgreSQL runs the built CLI). As root, installs
 * postgresql and pgbackrest when missing and runs PostgreSQL as `postgres`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { archiveCommand } from '../src/backup/postgres/wal-archive.js';
import { confString } from '../src/backup/postgres/quoting.js';
import { findPostgresBinDir } from '../src/testing/postgres-server.js';
import { freePort } from '../src/testing/net.js';

const { values } = parseArgs({
  options: {
    segments: { type: 'string', default: '64' }, parallel: { type: 'string', default: '4' },
    contenders: { type: 'string', default: 'bulwark-sync,bulwark-async,pgbackrest-lz4,pgbackrest-gz' },
    bulwark: { type: 'string', default: 'node dist/cli/main.js' }, dir: { type: 'string' }, keep: { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
  },
});
const ROOT = resolve(new URL('..', import.meta.url).pathname);
const SEGMENTS = Number(values.segments);
const PARALLEL = Number(values.parallel);
const SEGMENT_BYTES = 16 * 1024 * 1024;
const TIMEOUT_MS = 15 * 60_000;
const log = (line: string) => process.stderr.write(`${line}\n`);

type Contender = 'bulwark-sync' | 'bulwark-async' | 'pgbackrest-lz4' | 'pgbackrest-gz';

interface Result {
  contender: Contender;
  segments: number;
  writeSeconds: number;
  totalSeconds: number;
  segmentsPerSecond: number;
  tailSeconds: number;
  maxPending: number;
  maxLagSeconds: number;
  failedAttempts: number;
  /** Backlog phase: segments written while archiving was off, then archived from a standing start. */
  drainSegments: number;
  drainSeconds: number;
  drainPerSecond: number;
  error?: string;
}

interface RunAs { uid: number; gid: number }

function ensurePackages(): void {
  if (process.getuid?.() !== 0) return;
  const missing = [];
  try { execFileSync('sh', ['-c', 'ls /usr/lib/postgresql/*/bin/initdb'], { stdio: 'ignore' }); } catch { missing.push('postgresql'); }
  try { execFileSync('pgbackrest', ['version'], { stdio: 'ignore' }); } catch { missing.push('pgbackrest'); }
  if (missing.length === 0) return;
  log(`installing ${missing.join(' ')}`);
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function postgresUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) };
}

function own(path: string, runAs: RunAs | undefined): void {
  if (runAs) execFileSync('chown', ['-R', `${runAs.uid}:${runAs.gid}`, path]);
}

interface Cluster { dataDir: string; port: number; socketDir: string; child: ChildProcess; output: () => string }

async function startCluster(binDir: string, dir: string, archive: string, runAs: RunAs | undefined): Promise<Cluster> {
  const dataDir = join(dir, 'data');
  execFileSync(join(binDir, 'initdb'), ['-D', dataDir, '-U', 'bench', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], { cwd: dir, stdio: 'ignore', ...runAs });
  const port = await freePort();
  writeFileSync(join(dataDir, 'postgresql.auto.conf'), [
    "wal_level = 'replica'", "archive_mode = 'on'", `archive_command = ${confString(archive)}`, "max_wal_size = '8GB'", "min_wal_size = '1GB'",
    "checkpoint_timeout = '30min'", "synchronous_commit = 'off'", "listen_addresses = ''", `unix_socket_directories = ${confString(dir)}`, '',
  ].join('\n'));
  own(dataDir, runAs);
  const child = spawn(join(binDir, 'postgres'), ['-D', dataDir, '-p', String(port)], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...runAs });
  let output = '';
  const keep = (b: Buffer) => { output = (output + b.toString()).slice(-32_768); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const cluster = { dataDir, port, socketDir: dir, child, output: () => output };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const c = client(cluster);
      await c.connect();
      await c.end();
      return cluster;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`postgres did not start: ${String(err)}\n${output}`, { cause: err });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function client(c: Pick<Cluster, 'socketDir' | 'port'>): pg.Client {
  return new pg.Client({ host: c.socketDir, port: c.port, user: 'bench', database: 'postgres' });
}

async function stopCluster(c: Cluster): Promise<void> {
  if (c.child.exitCode !== null) return;
  const exited = new Promise((r) => c.child.once('exit', r));
  c.child.kill('SIGINT'); // fast shutdown: does not wait for the archiver to finish
  await exited;
}

/** The archive_command of a contender; sets up its repository and configuration under `dir`. */
function prepare(contender: Contender, dir: string, dataDir: string, socketDir: string, portHolder: { port: number }): { command: string; afterStart?: () => void; stopArchiver: () => Promise<void> } {
  if (contender.startsWith('bulwark')) {
    const config = join(dir, 'bulwark.yaml');
    const passFile = join(dir, 'backup.pass');
    writeFileSync(passFile, 'wal benchmark password\n', { mode: 0o600 });
    const async = contender === 'bulwark-async';
    writeFileSync(config, [
      'version: 1', 'databases:', '  db: { postgres: { members: [{ name: p1, host: 127.0.0.1, port: 5432 }] } }',
      'backups:', '  repositories:', `    local: { path: ${join(dir, 'repo')}, password: "\${file:${passFile}}" }`,
      '  policies:', `    db: { source: { postgres: db }, schedule: daily at 02:00, copies: [local], wal_archiving: ${async ? `{ spool: ${join(dir, 'spool')}, parallel: ${PARALLEL} }` : 'true'} }`, '',
    ].join('\n'));
    const prefix = [...values.bulwark.split(' ').map((w, i) => (i === 0 && w === 'node' ? process.execPath : w === 'dist/cli/main.js' ? join(ROOT, w) : w)), 'backup'];
    const suffix = ` -c ${config}`;
    const command = async ? archiveCommand(prefix, 'db', { root: join(dir, 'spool'), suffix }) : `${archiveCommand(prefix, 'db')}${suffix}`;
    execFileSync(prefix[0]!, [...prefix.slice(1), 'init', '-c', config, '--repository', 'local', '-q'], { stdio: 'ignore' });
    return { command, stopArchiver: () => stopProcesses(`wal archiver db --pg-wal ${join(dataDir, 'pg_wal')}`) };
  }
  const conf = join(dir, 'pgbackrest.conf');
  const compress = contender === 'pgbackrest-lz4' ? 'lz4' : 'gz';
  const write = () => writeFileSync(conf, [
    '[global]', `repo1-path=${join(dir, 'repo')}`, 'repo1-cipher-type=aes-256-cbc', 'repo1-cipher-pass=wal-benchmark-password',
    `spool-path=${join(dir, 'spool')}`, `lock-path=${join(dir, 'lock')}`, `log-path=${join(dir, 'log')}`, 'archive-async=y', `process-max=${PARALLEL}`,
    `compress-type=${compress}`, 'log-level-console=warn', 'log-level-file=warn', 'archive-timeout=60',
    '[bench]', `pg1-path=${dataDir}`, `pg1-port=${portHolder.port}`, `pg1-socket-path=${socketDir}`, 'pg1-user=bench', '',
  ].join('\n'));
  write();
  return {
    command: `pgbackrest --config=${conf} --stanza=bench archive-push %p`,
    afterStart: () => {
      write();
      execFileSync('pgbackrest', [`--config=${conf}`, '--stanza=bench', 'stanza-create'], { stdio: 'pipe', ...postgresUser() });
    },
    stopArchiver: () => stopProcesses(`--config=${conf}`),
  };
}

/**
 * Both asynchronous archivers read pg_wal/archive_status on their own and
 * would ship a backlog while archive_command is off: stop them first.
 */
async function stopProcesses(pattern: string): Promise<void> {
  try { execFileSync('pkill', ['-TERM', '-f', '--', pattern]); } catch { return; /* none running */ }
  for (let i = 0; i < 100; i++) {
    try { execFileSync('pgrep', ['-f', '--', pattern], { stdio: 'ignore' }); } catch { return; }
    await new Promise((r) => setTimeout(r, 100));
  }
  try { execFileSync('pkill', ['-KILL', '-f', '--', pattern]); } catch { /* gone */ }
}

interface Sample { pending: number; lagSeconds: number }

function sampleReady(dataDir: string): Sample {
  const statusDir = join(dataDir, 'pg_wal', 'archive_status');
  let pending = 0;
  let oldest = Infinity;
  for (const entry of readdirSync(statusDir)) {
    if (!entry.endsWith('.ready')) continue;
    pending++;
    try { oldest = Math.min(oldest, statSync(join(statusDir, entry)).mtimeMs); } catch { /* archived meanwhile */ }
  }
  return { pending, lagSeconds: Number.isFinite(oldest) ? Math.max(0, (Date.now() - oldest) / 1000) : 0 };
}

/**
 * WAL as fast as the server takes it: 1 MiB logical messages (half random
 * bytes, half text, so WAL compresses about as real WAL does) in a loop.
 */
async function writeWal(c: pg.Client, bytes: bigint): Promise<string> {
  const payload = Buffer.concat([randomBytes(512 * 1024), Buffer.from('INSERT INTO orders VALUES (42, \'widget\', 19.99, now());\n'.repeat(9_000).slice(0, 512 * 1024))]);
  const lsn = async () => BigInt((await c.query<{ n: string }>("SELECT pg_current_wal_lsn() - '0/0' AS n")).rows[0]!.n);
  const start = await lsn();
  for (;;) {
    for (let i = 0; i < 16; i++) await c.query("SELECT pg_logical_emit_message(false, 'bench', $1::bytea)", [payload]);
    if ((await lsn()) - start >= bytes) break;
  }
  const last = (await c.query<{ f: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS f')).rows[0]!.f;
  await c.query('SELECT pg_switch_wal()');
  return last;
}

async function runContender(contender: Contender, root: string, binDir: string, runAs: RunAs | undefined): Promise<Result> {
  const dir = join(root, contender);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const holder = { port: 0 };
  const setup = prepare(contender, dir, join(dir, 'data'), dir, holder);
  own(dir, runAs);
  const cluster = await startCluster(binDir, dir, setup.command, runAs);
  holder.port = cluster.port;
  const result: Result = { contender, segments: 0, writeSeconds: 0, totalSeconds: 0, segmentsPerSecond: 0, tailSeconds: 0, maxPending: 0, maxLagSeconds: 0, failedAttempts: 0, drainSegments: 0, drainSeconds: 0, drainPerSecond: 0 };
  const c = client(cluster);
  await c.connect();
  try {
    setup.afterStart?.();
    const stats = async () => (await c.query<{ last: string | null; failed: string; archived: string }>('SELECT last_archived_wal AS last, failed_count AS failed, archived_count AS archived FROM pg_stat_archiver')).rows[0]!;
    const before = Number((await stats()).archived);
    const sampler = setInterval(() => {
      const s = sampleReady(cluster.dataDir);
      result.maxPending = Math.max(result.maxPending, s.pending);
      result.maxLagSeconds = Math.max(result.maxLagSeconds, s.lagSeconds);
    }, 100);
    const t0 = performance.now();
    try {
      const writer = client(cluster);
      await writer.connect();
      const last = await writeWal(writer, BigInt(SEGMENTS * SEGMENT_BYTES));
      await writer.end();
      result.writeSeconds = (performance.now() - t0) / 1000;
      log(`[${contender}] wrote WAL up to ${last} in ${result.writeSeconds.toFixed(1)}s; waiting for the archiver`);
      const deadline = Date.now() + TIMEOUT_MS;
      for (;;) {
        const s = await stats();
        if (s.last !== null && s.last.length === 24 && s.last >= last) {
          result.totalSeconds = (performance.now() - t0) / 1000;
          result.segments = Number(s.archived) - before;
          result.failedAttempts = Number(s.failed);
          break;
        }
        if (Date.now() > deadline) throw new Error(`not archived within ${TIMEOUT_MS / 60_000} min (last ${s.last}, failed ${s.failed})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      clearInterval(sampler);
    }
    result.segmentsPerSecond = result.segments / result.totalSeconds;
    result.tailSeconds = result.totalSeconds - result.writeSeconds;
    await drain(c, stats, setup.command, setup.stopArchiver, result);
  } catch (err) {
    result.error = `${String(err)}\n${cluster.output().split('\n').filter((l) => /archive|FATAL|ERROR/.test(l)).slice(-6).join('\n')}`;
  } finally {
    await c.end().catch(() => undefined);
    await stopCluster(cluster);
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
  log(`[${contender}] ${result.error ? `FAILED: ${result.error}` : `${result.segments} segments in ${result.totalSeconds.toFixed(1)}s = ${result.segmentsPerSecond.toFixed(2)}/s`}`);
  return result;
}

/**
 * The archiver alone: with archive_command empty PostgreSQL keeps WAL and marks
 * it ready; once the command is back, the time to archive that backlog is the
 * archiver's own rate, with no writer competing for the CPU.
 */
async function drain(c: pg.Client, stats: () => Promise<{ last: string | null; archived: string }>, command: string, stopArchiver: () => Promise<void>, result: Result): Promise<void> {
  await c.query("ALTER SYSTEM SET archive_command = ''");
  await c.query('SELECT pg_reload_conf()');
  await new Promise((r) => setTimeout(r, 500)); // an archive_command already running finishes
  await stopArchiver();
  const before = Number((await stats()).archived);
  const last = await writeWal(c, BigInt(SEGMENTS * SEGMENT_BYTES));
  await c.query(`ALTER SYSTEM SET archive_command = ${pg.escapeLiteral(command)}`);
  const t0 = performance.now();
  await c.query('SELECT pg_reload_conf()');
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const s = await stats();
    if (s.last !== null && s.last.length === 24 && s.last >= last) break;
    if (Date.now() > deadline) throw new Error(`backlog not archived within ${TIMEOUT_MS / 60_000} min (last ${s.last})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  result.drainSeconds = (performance.now() - t0) / 1000;
  result.drainSegments = Number((await stats()).archived) - before;
  result.drainPerSecond = result.drainSegments / result.drainSeconds;
}

function table(results: Result[]): string {
  const anchor = results.find((r) => r.contender === 'pgbackrest-lz4' && !r.error) ?? results.find((r) => r.contender.startsWith('pgbackrest') && !r.error);
  const vs = `vs ${anchor?.contender ?? 'pgBackRest'}`;
  const rows = [['contender', 'segments', 'write s', 'total s', 'segments/s', vs, 'tail s', 'max pending', 'max lag s', 'failed tries', 'backlog', 'drain s', 'drain/s', `drain ${vs}`]];
  for (const r of results) {
    rows.push(r.error ? [r.contender, 'failed', '', '', '', '', '', '', '', r.error.split('\n')[0]!] : [
      r.contender, String(r.segments), r.writeSeconds.toFixed(1), r.totalSeconds.toFixed(1), r.segmentsPerSecond.toFixed(2),
      anchor ? `${(r.segmentsPerSecond / anchor.segmentsPerSecond).toFixed(2)}x` : '', r.tailSeconds.toFixed(1), String(r.maxPending), r.maxLagSeconds.toFixed(1), String(r.failedAttempts),
      String(r.drainSegments), r.drainSeconds.toFixed(1), r.drainPerSecond.toFixed(2), anchor ? `${(r.drainPerSecond / anchor.drainPerSecond).toFixed(2)}x` : '',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n');
}

async function main(): Promise<void> {
  ensurePackages();
  const runAs = postgresUser();
  const binDir = await findPostgresBinDir();
  const root = values.dir ?? mkdtempSync(join(tmpdir(), 'bulwark-wal-bench-'));
  chmodSync(root, 0o755);
  if (runAs) chownSync(root, runAs.uid, runAs.gid);
  log(`WAL archiving benchmark: ${SEGMENTS} segments of 16 MiB, parallel ${PARALLEL}, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}; work dir ${root}`);
  const results: Result[] = [];
  for (const contender of values.contenders.split(',') as Contender[]) results.push(await runContender(contender, root, binDir, runAs));
  if (!values.keep && !values.dir) rmSync(root, { recursive: true, force: true });
  if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else process.stdout.write(`${table(results)}\n`);
  const bulwark = results.find((r) => r.contender === 'bulwark-async' && !r.error);
  const anchor = results.find((r) => r.contender === 'pgbackrest-lz4' && !r.error);
  if (bulwark && anchor) {
    const met = (a: number, b: number) => `${a >= b ? 'met' : 'not met'} (${(a / b).toFixed(2)}x)`;
    process.stdout.write(`goal (bulwark-async at least pgBackRest's rate): under load ${met(bulwark.segmentsPerSecond, anchor.segmentsPerSecond)}, draining a backlog ${met(bulwark.drainPerSecond, anchor.drainPerSecond)}\n`);
  }
  process.exitCode = results.some((r) => r.error) ? 2 : 0;
}

await main();
