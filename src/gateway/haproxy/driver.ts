import type { Logger } from '../../core/logger.js';
import type { EndpointPool } from '../pool/index.js';
import type { EndpointState } from '../pool/types.js';
import { backendName, haproxyWeight, type ServerState } from './render-backend.js';
import { haproxyCommand, runtimeError } from './runtime-api.js';

type RuntimeState = 'ready' | 'drain' | 'maint';

interface Applied {
  state: RuntimeState;
  weight: number;
}

/**
 * What HAProxy should do with an endpoint, from Bulwark's decisions: down by
 * the probes' quorum or disabled by an operator → maint; draining → drain
 * (no new requests, in-flight ones and sticky sessions finish); else ready.
 * HAProxy's own checks still mark a ready server down on their own.
 */
export function runtimeStateOf(endpoint: Pick<EndpointState, 'admin' | 'health'>): RuntimeState {
  if (endpoint.admin === 'disabled' || endpoint.health === 'down') return 'maint';
  return endpoint.admin === 'draining' ? 'drain' : 'ready';
}

/** The state a rendered configuration starts a server in (a new worker after a reload starts where the old one was). */
export function serverStateOf(endpoint: Pick<EndpointState, 'admin' | 'health' | 'weight'>): ServerState {
  const state = runtimeStateOf(endpoint);
  return { weight: state === 'drain' ? 0 : endpoint.weight, maint: state === 'maint' };
}

/**
 * Pushes pool states into HAProxy through the runtime API (`set server …
 * state|weight`), sending only what changed since the last push; `forget()`
 * after a new worker starts makes the next push send everything.
 */
export class RuntimeDriver {
  private readonly applied = new Map<string, Applied>();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly statsSocket: string, private readonly log: Logger) {}

  forget(): void {
    this.applied.clear();
  }

  /** Resolves once HAProxy has the pool's current states (pushes run one after another, in order). */
  sync(service: string, pool: EndpointPool): Promise<void> {
    const run = this.queue.then(() => this.push(service, pool));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async push(service: string, pool: EndpointPool): Promise<void> {
    const commands: string[] = [];
    const next = new Map<string, Applied>();
    for (const endpoint of pool.snapshot().endpoints) {
      const key = `${service}/${endpoint.id}`;
      const wanted: Applied = { state: runtimeStateOf(endpoint), weight: haproxyWeight(endpoint.weight) };
      const before = this.applied.get(key);
      const server = `${backendName(service)}/${endpoint.id}`;
      if (before?.weight !== wanted.weight) commands.push(`set server ${server} weight ${wanted.weight}`);
      if (before?.state !== wanted.state) commands.push(`set server ${server} state ${wanted.state}`);
      next.set(key, wanted);
    }
    if (commands.length === 0) return;
    const answer = await haproxyCommand(this.statsSocket, commands.join(';'));
    const problem = runtimeError(answer);
    if (problem !== undefined) {
      this.log.warn({ service, answer: problem }, 'HAProxy refused a server state change');
      return;
    }
    for (const [key, value] of next) this.applied.set(key, value);
    this.log.debug({ service, commands }, 'HAProxy server states pushed');
  }
}
