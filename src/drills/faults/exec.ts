import { execFile } from 'node:child_process';
import { BulwarkError } from '../../core/errors.js';

/** Runs a command (ip, tc) and fails with its stderr; nothing is run through a shell. */
export function run(file: string, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (!err) return resolvePromise(stdout);
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new BulwarkError('INTERNAL', `${file} ${args.join(' ')} failed: ${missing ? 'not installed' : stderr.trim() || err.message}`, {
        hint: missing ? `install ${file === 'tc' || file === 'ip' ? 'iproute2' : file}` : 'network faults need root (CAP_NET_ADMIN) and, for netem, the sch_netem kernel module',
      }));
    });
  });
}

/** `ip netns exec NS CMD...` */
export function inNetns(netns: string, file: string, args: readonly string[]): Promise<string> {
  return run('ip', ['netns', 'exec', netns, file, ...args]);
}
