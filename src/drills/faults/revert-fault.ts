import { processStartTicks } from '../proc.js';
import type { FaultEntry } from './entries.js';
import { inNetns } from './exec.js';
import { pidsListeningOn, respawn } from './process.js';

/** Undoes one fault; says what it did. Safe to run twice (a replay after a revert that was not unjournalled). */
export async function revertFaultEntry(entry: FaultEntry): Promise<string> {
  switch (entry.kind) {
    case 'stopped':
      if ((await processStartTicks(entry.pid)) !== entry.startTicks) return `${entry.what} (pid ${entry.pid}) was no longer running`;
      process.kill(entry.pid, 'SIGCONT');
      return `SIGCONT ${entry.what} (pid ${entry.pid})`;
    case 'killed':
      return restartKilled(entry);
    case 'qdisc':
      return deleteQdisc(entry);
    case 'link-down':
      await inNetns(entry.netns, 'ip', ['link', 'set', 'dev', entry.dev, 'up']);
      return `set ${entry.dev} up in netns ${entry.netns}`;
    case 'proxy':
      return `fault proxy ${entry.listen} back to pass-through (${entry.mode} ended)`;
    case 'gateway-admin':
      // Only reached at replay: a live drill enables the endpoint through the gateway it was handed.
      return `${entry.service}/${entry.endpoint}: the gateway that disabled it ran in the drill's process and ended with it`;
  }
}

async function restartKilled(entry: Extract<FaultEntry, { kind: 'killed' }>): Promise<string> {
  if (entry.restart === 'supervisor') return `${entry.what} left to its supervisor to restart`;
  if (entry.port !== undefined && (await pidsListeningOn(entry.port)).length > 0) return `${entry.what} already serves on port ${entry.port} again`;
  const pid = respawn(entry.argv, entry.cwd);
  return `started ${entry.what} again (pid ${pid ?? '?'}): ${entry.argv.join(' ')}`;
}

async function deleteQdisc(entry: Extract<FaultEntry, { kind: 'qdisc' }>): Promise<string> {
  const shown = await inNetns(entry.netns, 'tc', ['qdisc', 'show', 'dev', entry.dev]);
  if (!/\bnetem\b/.test(shown)) return `no netem on ${entry.dev} in netns ${entry.netns}`;
  await inNetns(entry.netns, 'tc', ['qdisc', 'del', 'dev', entry.dev, 'root']);
  return `removed netem (${entry.spec}) from ${entry.dev} in netns ${entry.netns}`;
}
