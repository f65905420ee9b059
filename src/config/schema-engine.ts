import { z } from 'zod';

/** The data plane of a service: the built-in Node gateway, or HAProxy rendered, supervised and driven by the daemon. */
export const gatewayEngine = z.enum(['builtin', 'haproxy']);
export type GatewayEngine = z.output<typeof gatewayEngine>;

/** Where and how the daemon runs HAProxy for the services whose engine is `haproxy`. */
export const haproxySettings = z.strictObject({
  /** The haproxy binary (2.6 or later); found on PATH and in /usr/sbin by default. */
  bin: z.string().min(1).optional(),
  /** Where haproxy.cfg, the sockets and the combined certificate files go; a directory under the system's temp dir by default. */
  /** HAProxy's `nbthread`; HAProxy's own default (one thread per CPU) when unset. */
  threads: z.number().int().min(1).max(64).optional(),
  dir: z.string().min(1).regex(/^\//, { message: 'expected an absolute path such as /var/lib/bulwark/haproxy' }).optional(),
});
export type HaproxySettings = z.output<typeof haproxySettings>;

/** The engine that serves a service: its own `engine`, else `gateway.engine`. */
export function serviceEngine(service: { engine?: GatewayEngine | undefined }, gateway: { engine: GatewayEngine }): GatewayEngine {
  return service.engine ?? gateway.engine;
}
