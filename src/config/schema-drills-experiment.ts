import { z } from 'zod';
import { duration, httpUrl, listenAddress, name, port } from './fields.js';

/**
 * Experiments as code (Chaos Toolkit's model), `type: experiment` in dr_testing:
 * a steady-state hypothesis (probes with tolerances), a method (actions), and
 * rollbacks. Each probe and action is one object named by its `probe:` or
 * `action:` key, so an unknown kind is reported at its own line and column.
 */

/** An HTTP answer: through the gateway (`service:` and `path:`) or at `url:`. */
const httpProbe = z.strictObject({
  probe: z.literal('http'),
  service: name().optional(),
  path: z.string().startsWith('/', { message: 'expected a path starting with "/"' }).default('/'),
  url: httpUrl().optional(),
  /** The status expected; any status below 500 when absent. */
  status: z.number().int().min(100).max(599).optional(),
  /** The answer must come within this long (the probe's timeout too). */
  max_latency: duration().default(2_000),
}).refine((p) => (p.service === undefined) !== (p.url === undefined), { message: 'an http probe needs service: (through the gateway) or url:, not both' });

/** The first column of the first row of a query, compared with `equals` or bounded by `min`/`max`. */
const sqlProbe = z.strictObject({
  probe: z.literal('sql'),
  /** postgres://user:password@host:port/database; use ${ENV} or a secret file for the password. */
  url: z.string().regex(/^postgres(ql)?:\/\//, { message: 'expected a postgres:// URL' }),
  query: z.string().min(1),
  equals: z.union([z.string(), z.number()]).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  timeout: duration().default(5_000),
});

/** A Prometheus series from a /metrics page (`name` as written there, labels included), within bounds. */
const metricProbe = z.strictObject({
  probe: z.literal('metric'),
  url: httpUrl(),
  name: z.string().min(1),
  min: z.number().optional(),
  max: z.number().optional(),
}).refine((p) => p.min !== undefined || p.max !== undefined, { message: 'a metric probe needs min: or max:' });

/** Some process of this machine listens on the port. */
const processProbe = z.strictObject({ probe: z.literal('process'), port: port() });

export const PROBE_KINDS = ['http', 'sql', 'metric', 'process'] as const;
export const ACTION_KINDS = ['kill', 'stop', 'continue', 'disable', 'proxy', 'pause', 'http'] as const;

export const experimentProbe = z.discriminatedUnion('probe', [httpProbe, sqlProbe, metricProbe, processProbe], { error: () => `unknown probe: expected probe: one of ${PROBE_KINDS.join(', ')}` });

const processTarget = { port: port() };

export const experimentAction = z.discriminatedUnion('action', [
  /** SIGKILL the process listening on the port; reverted by starting its command line again (respawn) or by its supervisor. */
  z.strictObject({ action: z.literal('kill'), ...processTarget, restart: z.enum(['respawn', 'supervisor']).default('respawn') }),
  z.strictObject({ action: z.literal('stop'), ...processTarget }),
  z.strictObject({ action: z.literal('continue'), ...processTarget }),
  /** An endpoint disabled in the gateway the drill runs beside. */
  z.strictObject({ action: z.literal('disable'), service: name(), endpoint: z.string().min(1) }),
  /** The fault-injecting TCP proxy listening on `listen` (started with the experiment) in front of `upstream`. */
  z.strictObject({ action: z.literal('proxy'), listen: listenAddress(), fault: z.enum(['latency', 'drop', 'reset', 'blackhole']), latency: duration().optional() })
    .refine((a) => a.fault !== 'latency' || a.latency !== undefined, { message: 'a latency fault needs latency: (for example 200ms)' }),
  z.strictObject({ action: z.literal('pause'), duration: duration() }),
  z.strictObject({
    action: z.literal('http'), url: httpUrl(), method: z.enum(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']).default('GET'),
    body: z.string().optional(), status: z.number().int().min(100).max(599).optional(), timeout: duration().default(5_000),
  }),
], { error: () => `unknown action: expected action: one of ${ACTION_KINDS.join(', ')}` });

/** Proxies started with the experiment, before the hypothesis is first checked, and closed at its end. */
const proxy = z.strictObject({ listen: listenAddress(), upstream: z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, { message: 'expected host:port' }) });

export const experimentSchema = z.strictObject({
  steady_state: z.array(experimentProbe).min(1, { message: 'an experiment needs at least one steady_state probe' }),
  method: z.array(experimentAction).min(1, { message: 'an experiment needs at least one method action' }),
  rollbacks: z.array(experimentAction).default([]),
  proxies: z.array(proxy).default([]),
});

export type ExperimentConfig = z.output<typeof experimentSchema>;
export type ExperimentProbe = z.output<typeof experimentProbe>;
export type ExperimentAction = z.output<typeof experimentAction>;
