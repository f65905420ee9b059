/**
 * The actions of an experiment's method and rollbacks. Faults (kill, stop,
 * disable, proxy) go through the revert journal like every drill fault: a
 * crash mid-experiment is reverted at the next start. `continue` reverts the
 * stop it matches (and its journal entry), or SIGCONTs the process on the port.
 */
import type { ExperimentAction } from '../../config/index.js';
import { BulwarkError } from '../../core/errors.js';
import { sleep } from '../../core/time.js';
import type { RestoreContext } from '../context.js';
import { applyFault, type Fault, type FaultSet } from '../faults/fault.js';
import { processOnPort, killFault, stopFault } from '../faults/process.js';
import type { FaultProxy, ProxyMode } from '../faults/proxy.js';
import { fmt } from '../grade.js';

export interface ActionEnv {
  ctx: RestoreContext;
  faults: FaultSet;
  /** The experiment's proxies by listen address. */
  proxies: Map<string, FaultProxy>;
  signal: AbortSignal;
}

export function describeAction(a: ExperimentAction): string {
  switch (a.action) {
    case 'kill': return `SIGKILL the process on port ${a.port} (then ${a.restart === 'respawn' ? 'start its command line again' : 'its supervisor restarts it'})`;
    case 'stop': return `SIGSTOP the process on port ${a.port}`;
    case 'continue': return `SIGCONT the process on port ${a.port}`;
    case 'disable': return `disable ${a.service}/${a.endpoint} in the gateway`;
    case 'proxy': return `fault proxy ${a.listen}: ${a.fault}${a.latency !== undefined ? ` ${fmt(a.latency)}` : ''}`;
    case 'pause': return `pause ${fmt(a.duration)}`;
    case 'http': return `${a.method} ${a.url}${a.status !== undefined ? `, expecting ${a.status}` : ''}`;
  }
}

/** Runs one action; what it did, or throws what went wrong. */
export async function runAction(env: ActionEnv, a: ExperimentAction): Promise<string> {
  env.signal.throwIfAborted();
  switch (a.action) {
    case 'kill': {
      const target = await processOnPort(a.port, `the process on port ${a.port}`);
      return added(env, await killFault(env.ctx.journal, target, a.restart, a.port));
    }
    case 'stop':
      return added(env, await stopFault(env.ctx.journal, await processOnPort(a.port, `the process on port ${a.port}`)));
    case 'continue':
      return continueOn(env, a.port);
    case 'disable':
      return added(env, await disable(env, a.service, a.endpoint));
    case 'proxy':
      return added(env, await proxyFault(env, a));
    case 'pause':
      await sleep(a.duration, env.signal);
      return `paused ${fmt(a.duration)}`;
    case 'http':
      return httpCall(a, env.signal);
  }
}

function added(env: ActionEnv, fault: Fault): string {
  env.faults.add(fault);
  return fault.describe;
}

async function continueOn(env: ActionEnv, port: number): Promise<string> {
  const reverted = await env.faults.revertWhere((f) => f.entry.kind === 'stopped' && f.describe.includes(`on port ${port} (`));
  if (reverted.length > 0) return reverted.join('; ');
  const target = await processOnPort(port, `the process on port ${port}`);
  process.kill(target.pid, 'SIGCONT');
  return `SIGCONT ${target.what} (pid ${target.pid})`;
}

async function disable(env: ActionEnv, service: string, endpoint: string): Promise<Fault> {
  const gateway = env.ctx.gateway;
  if (!gateway) throw new BulwarkError('USAGE', `action disable needs the gateway serving ${service}, and this experiment runs without one`, { hint: 'use kill or stop from `bulwark drill run`, or run the experiment where the gateway runs' });
  const fault = await applyFault(env.ctx.journal, { kind: 'gateway-admin', service, endpoint }, `disable ${service}/${endpoint} in the gateway`, () => gateway.setAdminState(service, endpoint, 'disabled'));
  return { ...fault, revert: async () => { await gateway.setAdminState(service, endpoint, 'enabled'); await fault.revert(); return `enabled ${service}/${endpoint} in the gateway`; } };
}

async function proxyFault(env: ActionEnv, a: Extract<ExperimentAction, { action: 'proxy' }>): Promise<Fault> {
  const proxy = env.proxies.get(a.listen);
  if (!proxy) throw new BulwarkError('CONFIG_INVALID', `no proxy listens on ${a.listen} in this experiment`, { hint: `declare it: experiment.proxies: [{ listen: ${a.listen}, upstream: HOST:PORT }]` });
  const mode: ProxyMode = a.fault === 'latency' ? { kind: 'latency', ms: a.latency! } : { kind: a.fault };
  const fault = await applyFault(env.ctx.journal, { kind: 'proxy', listen: a.listen, mode: a.fault }, describeAction(a), async () => proxy.setMode(mode));
  return { ...fault, revert: async () => { proxy.setMode({ kind: 'pass' }); return fault.revert(); } };
}

async function httpCall(a: Extract<ExperimentAction, { action: 'http' }>, signal: AbortSignal): Promise<string> {
  const res = await fetch(a.url, { method: a.method, body: a.body, signal: AbortSignal.any([signal, AbortSignal.timeout(a.timeout)]) });
  await res.arrayBuffer();
  if (a.status !== undefined && res.status !== a.status) throw new BulwarkError('INTERNAL', `${a.method} ${a.url} answered ${res.status}, expected ${a.status}`);
  return `${a.method} ${a.url}: HTTP ${res.status}`;
}
