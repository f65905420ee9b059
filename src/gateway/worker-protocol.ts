import type { ServiceConfig } from '../config/index.js';
import type { AdminState, HealthStatus } from './pool/index.js';
import type { ServiceBehaviour } from './service-gateway.js';

/** What the primary owns and pushes to every worker: the probes' view and the operators' decisions. */
export interface EndpointControl {
  health: HealthStatus;
  admin: AdminState;
  weight: number;
}

export type PoolControl = Record<string, EndpointControl>;

/** A worker's open client connections, and how many the primary had handed it when it counted. */
export interface ConnectionCounts {
  open: number;
  received: number;
}

export type ToWorker =
  /** `behaviours`: per service, what its config does not say (database services: start down, close sessions on down, queue). */
  /** `listen`: the worker accepts on each service's shared socket itself (accept: kernel); otherwise the primary hands connections over. */
  | { type: 'bulwark:config'; services: Record<string, ServiceConfig>; behaviours: Record<string, ServiceBehaviour>; stickySecret: string; listen: boolean }
  | { type: 'bulwark:state'; seq: number; pools: Record<string, PoolControl> }
  /** The daemon is shutting down (its stop comes later): level changes from now on are no failover. */
  | { type: 'bulwark:stopping' }
  | { type: 'bulwark:stop'; drainMs: number }
  /** Sent with the client's socket: the primary accepts, the worker serves. */
  | { type: 'bulwark:connection'; service: string };

export type FromWorker =
  /** Sent once the worker's message handler is attached: cluster's 'online' comes before the module has loaded. */
  | { type: 'bulwark:ready' }
  | { type: 'bulwark:configured' }
  | { type: 'bulwark:state-applied'; seq: number }
  /** Requests in flight per endpoint, so the primary's drain knows when an endpoint is idle everywhere. */
  | { type: 'bulwark:active'; pools: Record<string, Record<string, number>>; connections: ConnectionCounts }
  | { type: 'bulwark:error'; message: string };

export function isToWorker(message: unknown): message is ToWorker {
  return typeof message === 'object' && message !== null && String((message as { type?: unknown }).type).startsWith('bulwark:');
}
