/**
 * The asynchronous WAL archiver alone, without PostgreSQL: a pg_wal of our own
 * making holds a standing backlog of 16 MiB segments (1 MiB pieces, half
 * random bytes, half SQL text, as bench/wal-archive.ts writes them through
 * pg_logical_emit_message), each marked ready; the archiver runs in this
 * process; the clock runs from the fourth `.ok` to the last. Prints segments/s, CPU
 * seconds per segment (all threads) and the load average.
 *
 *   npx tsx bench/wal-drain.ts [--segments 48] [--parallel 4] [--repositories 1] [--runs 1] [--dir DIR]
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { parseConfigText, type BulwarkConfig } from '../src/config/index.js';
import { openConfiguredRepo } from '../src/backup/policy/repos.js';
import { findPolicy } from '../src/backup/policy/runner.js';
import { runArchiver } from '../src/backup/policy/wal-async.js';

const { values } = parseArgs({
  options: {
    segments: { type: 'string', default: '48' }, parallel: { type: 'string', default: '4' },
    repositories: { type: 'string', default: '1' }, runs: { type: 'string', default: '1' }, dir: { type: 'string' },
  },
});
const SEGMENTS = Number(values.segments);
const PARALLEL = Number(values.parallel);
const REPOSITORIES = Number(values.repositories);
const SEGMENT_BYTES = 16 * 1024 * 1024;
const WARM_UP = 4;
const log = (line: string) => process.stderr.write(`${line}\n`);

function segmentName(i: number): string {
  return `00000001000000010000${i.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** One segment's content: 1 MiB pieces of 512 KiB random bytes and 512 KiB of text. */
function segmentData(): Buffer {
  const text = Buffer.from('INSERT INTO orders VALUES (42, \'widget\', 19.99, now());\n'.repeat(9_000).slice(0, 512 * 1024));
  const pieces: Buffer[] = [];
  for (let at = 0; at < SEGMENT_BYTES; at += 1024 * 1024) pieces.push(randomBytes(512 * 1024), text);
  return Buffer.concat(pieces);
}

async function prepare(dir: string): Promise<{ config: BulwarkConfig; pgWal: string }> {
  const pgWal = join(dir, 'pg_wal');
  await mkdir(join(pgWal, 'archive_status'), { recursive: true });
  for (let i = 0; i < SEGMENTS; i++) {
    await writeFile(join(pgWal, segmentName(i)), segmentData());
    await writeFile(join(pgWal, 'archive_status', `${segmentName(i)}.ready`), '');
  }
  const names = Array.from({ length: REPOSITORIES }, (_, i) => `repo${i}`);
  const yaml = [
    'version: 1', 'databases:', '  db: { postgres: { members: [{ name: p1, host: 127.0.0.1, port: 5432 }] } }',
    'backups:', '  repositories:', ...names.map((n) => `    ${n}: { path: ${join(dir, n)}, password: wal-drain-bench }`),
    '  policies:', `    db: { source: { postgres: db }, schedule: daily at 02:00, copies: [${names.join(', ')}], wal_archiving: { spool: ${join(dir, 'spool')}, parallel: ${PARALLEL} } }`, '',
  ].join('\n');
  const config = parseConfigText(yaml, join(dir, 'bulwark.yaml')).config as BulwarkConfig;
  for (const name of names) await (await openConfiguredRepo(config.backups!, name)).close();
  return { config, pgWal };
}

async function once(dir: string): Promise<{ seconds: number; cpuSeconds: number; sysSeconds: number }> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const { config, pgWal } = await prepare(dir);
  const spoolDir = join(dir, 'spool', 'db');
  const stop = new AbortController();
  const archiver = runArchiver({ backups: config.backups!, name: 'db', policy: findPolicy(config, 'db'), pgWal, logger: pino({ level: 'warn' }), idleMs: 60_000, signal: stop.signal });
  // The clock starts once WARM_UP segments are archived: the archiver's start (key derivation, workers, and
  // under tsx the compilation of their modules) is paid once per archiver, not per segment.
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  let warm = false;
  for (;;) {
    const ok = (await readdir(spoolDir).catch(() => [])).filter((f) => f.endsWith('.ok')).length;
    if (!warm && ok >= WARM_UP) [warm, cpu0, t0] = [true, process.cpuUsage(), performance.now()];
    if (ok >= SEGMENTS) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  stop.abort();
  await archiver;
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, sysSeconds: cpu.system / 1e6 };
}

async function main(): Promise<void> {
  const dir = values.dir ?? await mkdtemp(join(tmpdir(), 'bulwark-wal-drain-'));
  log(`WAL drain, standalone: ${SEGMENTS} segments of 16 MiB, parallel ${PARALLEL}, ${REPOSITORIES} repositories, ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  try {
    for (let run = 0; run < Number(values.runs); run++) {
      const { seconds, cpuSeconds, sysSeconds } = await once(join(dir, 'run'));
      process.stdout.write(`run ${run + 1}: ${SEGMENTS - WARM_UP} segments after the first ${WARM_UP} in ${seconds.toFixed(2)}s = ${((SEGMENTS - WARM_UP) / seconds).toFixed(2)} segments/s; CPU ${(cpuSeconds * 1000 / (SEGMENTS - WARM_UP)).toFixed(0)} ms/segment (system ${(sysSeconds * 1000 / (SEGMENTS - WARM_UP)).toFixed(0)}); load ${loadavg()[0]!.toFixed(2)}\n`);
    }
  } finally {
    if (!values.dir) await rm(dir, { recursive: true, force: true });
  }
}

await main();
