/**
 * Running a measured command: wall time around the spawn, peak RSS of the
 * child (GNU time's %M, i.e. the largest ru_maxrss among the processes it
 * waited for; else VmHWM polled from /proc), exit code and output tails.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';
const TAIL = 64 * 1024;

export interface Measured {
  ok: boolean;
  code: number | null;
  signal: string | null;
  seconds: number;
  peakRssKiB: number | null;
  stdoutTail: string;
  stderrTail: string;
}

export interface RunOptions { env: NodeJS.ProcessEnv; cwd: string; scratch: string }

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Installs restic and GNU time from Debian when missing and root; returns what is still missing. */
export function ensurePackages(needRestic: boolean): string[] {
  const missing = [...(needRestic && !has('restic') ? ['restic'] : []), ...(!existsSync(GNU_TIME) ? ['time'] : [])];
  if (missing.length > 0 && isRoot()) {
    const install = () => execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit' });
    try {
      install();
    } catch {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
      install();
    }
  }
  return missing.filter((m) => (m === 'time' ? !existsSync(GNU_TIME) : !has(m)));
}

/** `sync; echo 3 > /proc/sys/vm/drop_caches`; false when not allowed (not root, container). */
export function dropCaches(): boolean {
  if (!isRoot()) return false;
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}

function tail(s: string): string {
  return s.length > TAIL ? s.slice(-TAIL) : s;
}

function readVmHwm(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** GNU time with -o writes "Command exited with non-zero status N" before the format line. */
function readTimeFile(path: string): number | null {
  try {
    const last = readFileSync(path, 'utf8').trim().split('\n').pop() ?? '';
    return /^\d+$/.test(last) ? Number(last) : null;
  } catch {
    return null;
  }
}

export async function runMeasured(cmd: string, args: string[], opts: RunOptions): Promise<Measured> {
  const useTime = existsSync(GNU_TIME);
  const rssFile = join(opts.scratch, `rss-${process.pid}-${Date.now()}.txt`);
  const [file, argv] = useTime ? [GNU_TIME, ['-f', '%M', '-o', rssFile, cmd, ...args]] : [cmd, args];
  let out = '';
  let err = '';
  let polled: number | null = null;
  const started = performance.now();
  const child = spawn(file, argv, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => { out = tail(out + d.toString()); });
  child.stderr.on('data', (d: Buffer) => { err = tail(err + d.toString()); });
  const poll = useTime ? undefined : setInterval(() => { polled = Math.max(polled ?? 0, readVmHwm(child.pid ?? 0) ?? 0); }, 50);
  const result = await new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once('error', (e) => { err += `\n${e.message}`; resolve({ code: null, signal: null }); });
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(poll);
  const peakRssKiB = useTime ? readTimeFile(rssFile) : polled;
  rmSync(rssFile, { force: true });
  return { ok: result.code === 0, ...result, seconds, peakRssKiB, stdoutTail: out, stderrTail: err };
}

/** Apparent size (like `du -sb`) and allocated size (like `du -sB1`) of a tree. */
export function dirBytes(dir: string): { apparent: number; allocated: number } {
  let apparent = 0;
  let allocated = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) { walk(p); continue; }
      const st = lstatSync(p);
      apparent += st.size;
      allocated += st.blocks * 512;
    }
  };
  if (existsSync(dir)) walk(dir);
  return { apparent, allocated };
}

export function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
