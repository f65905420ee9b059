import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../testing/net.js';

const execFileAsync = promisify(execFile);
const SSHD = '/usr/sbin/sshd';

/** A real OpenSSH server on 127.0.0.1 for tests, accepting one generated client key. */
export interface SshdServer {
  host: string;
  port: number;
  user: string;
  privateKey: Buffer;
  /** `SHA256:…` as `ssh-keygen -l` prints it. */
  hostKeyFingerprint: string;
  /** Directory the tests may use as the SFTP root (removed on stop). */
  dir: string;
  /** SIGKILL the server and its per-connection children: open connections drop. */
  kill(): Promise<void>;
  /** Start again on the same port with the same keys (kills a running server first). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSshd(): Promise<SshdServer> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-sshd-'));
  await mkdir('/run/sshd', { recursive: true });
  const port = await freePort();
  const user = userInfo().username;
  await keygen(join(dir, 'host_key'));
  await keygen(join(dir, 'client_key'));
  await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client_key.pub')));
  await writeFile(join(dir, 'sshd_config'), sshdConfig(dir, port));
  const fingerprint = (await execFileAsync('ssh-keygen', ['-l', '-f', join(dir, 'host_key.pub')])).stdout.split(' ')[1] ?? '';

  let child: ChildProcess | undefined;
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running?.pid || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    // Each connection is served by a child that calls setsid(): it must be found and killed by pid.
    for (const pid of [running.pid, ...(await descendants(running.pid))]) signalPid(pid, signal);
    await exited;
  };
  const start = async (): Promise<void> => {
    child = await spawnSshd(dir, port);
  };

  await start();
  return {
    host: '127.0.0.1',
    port,
    user,
    privateKey: await readFile(join(dir, 'client_key')),
    hostKeyFingerprint: fingerprint,
    dir: join(dir, 'root'),
    kill: () => kill('SIGKILL'),
    restart: async () => {
      await kill('SIGKILL');
      await start();
    },
    stop: async () => {
      await kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function sshdConfig(dir: string, port: number): string {
  return [
    `ListenAddress 127.0.0.1:${port}`,
    `HostKey ${join(dir, 'host_key')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'Subsystem sftp internal-sftp',
    'LogLevel ERROR',
    '',
  ].join('\n');
}

async function keygen(path: string): Promise<void> {
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bulwark-test', '-f', path]);
}

async function spawnSshd(dir: string, port: number): Promise<ChildProcess> {
  await mkdir(join(dir, 'root'), { recursive: true });
  const child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sshd did not start on port ${port}: ${stderr.trim() || 'no output'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Every process below `pid`, from /proc (Linux). */
async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid) parents.set(Number(entry), ppid);
  }
  const found: number[] = [];
  const walk = (parent: number): void => {
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
