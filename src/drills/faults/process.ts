/**
 * Process faults: SIGKILL (then respawn, or leave it to a supervisor) and
 * SIGSTOP/SIGCONT. Processes are found by the port they listen on, and
 * signalled only while /proc shows the start time recorded.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { BulwarkError } from '../../core/errors.js';
import type { RevertJournal } from '../journal.js';
import { processStartTicks } from '../proc.js';
import { run } from './exec.js';
import { applyFault, type Fault } from './fault.js';

/** Pids with a socket listening on this TCP port (any local address): `ss`, else a walk of /proc (slow on a busy machine). */
export async function pidsListeningOn(port: number): Promise<number[]> {
  const listed = await run('ss', ['-Hltnp', `sport = :${port}`]).catch(() => undefined);
  if (listed !== undefined) return [...new Set([...listed.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])))];
  return pidsFromProc(port);
}

async function pidsFromProc(port: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN; the inode is field 10.
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1]!.split(':')[1]!, 16) === port) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const fds = await readdir(`/proc/${name}/fd`).catch(() => []);
    for (const fd of fds) {
      const link = await readlink(`/proc/${name}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode !== undefined && inodes.has(inode)) {
        pids.push(Number(name));
        break;
      }
    }
  }
  return pids;
}

export interface TargetProcess { pid: number; startTicks: number; argv: string[]; cwd: string; what: string }

/** The process serving a local port, with what a respawn needs. */
export async function processOnPort(port: number, what: string): Promise<TargetProcess> {
  const pids = (await pidsListeningOn(port)).filter((p) => p !== process.pid);
  if (pids.length === 0) {
    throw new BulwarkError('USAGE', `no process on this machine listens on port ${port} (${what})`, {
      hint: 'kill and stop faults work on endpoints running on the machine that runs the drill; use method: disable for others',
    });
  }
  // Several (a pre-forked server): the parent is the one whose death matters; the lowest pid started first.
  const pid = Math.min(...pids);
  const startTicks = await processStartTicks(pid);
  if (startTicks === undefined) throw new BulwarkError('INTERNAL', `process ${pid} (${what}) ended while it was being looked up`);
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((a) => a !== '');
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '/');
  return { pid, startTicks, argv, cwd, what };
}

export async function stopFault(journal: RevertJournal, target: TargetProcess): Promise<Fault> {
  return applyFault(journal, { kind: 'stopped', pid: target.pid, startTicks: target.startTicks, what: target.what },
    `SIGSTOP ${target.what} (pid ${target.pid})`, async () => signal(target, 'SIGSTOP'));
}

export async function killFault(journal: RevertJournal, target: TargetProcess, restart: 'respawn' | 'supervisor', port?: number): Promise<Fault> {
  return applyFault(journal, { kind: 'killed', what: target.what, argv: target.argv, cwd: target.cwd, restart, port },
    `SIGKILL ${target.what} (pid ${target.pid})`, async () => signal(target, 'SIGKILL'));
}

async function signal(target: TargetProcess, sig: NodeJS.Signals): Promise<void> {
  if ((await processStartTicks(target.pid)) !== target.startTicks) throw new BulwarkError('INTERNAL', `${target.what} (pid ${target.pid}) is no longer the process found`);
  process.kill(target.pid, sig);
}

/** Starts argv again in cwd, detached from the drill (it outlives it, as the original did). */
export function respawn(argv: readonly string[], cwd: string): number | undefined {
  const child = spawn(argv[0]!, argv.slice(1), { cwd, detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
  return child.pid;
}
