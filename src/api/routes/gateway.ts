import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { BulwarkError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Store } from '../../store/index.js';
import { MAX_WEIGHT, type AdminState, type EndpointPool, type EndpointSnapshot } from '../../gateway/index.js';

/** What the admin routes need from the running gateway (the `Gateway` subsystem has it). */
export interface GatewayAdmin {
  /** Every live pool by service name. */
  snapshot(): Record<string, unknown>;
  service(name: string): { readonly pool: EndpointPool } | undefined;
  /** The pool of a service whatever its engine (the HAProxy engine's services have no `service()`); `service(name).pool` when absent. */
  pool?(name: string): EndpointPool | undefined;
  /** Called after every operator change, so copies of the pool (gateway workers) can be updated at once. */
  /** Resolves once the change is in effect everywhere (gateway workers included). */
  poolChanged?(service: string): Promise<void> | void;
}

export interface GatewayRouteDependencies {
  gateway: GatewayAdmin;
  store: Pick<Store, 'appendEvent'>;
  log: Logger;
}

const weightBody = z.strictObject({
  weight: z.number({ message: `"weight" must be a number from 0 to ${MAX_WEIGHT}` })
    .int({ message: `"weight" must be a whole number from 0 to ${MAX_WEIGHT}` })
    .min(0, { message: `"weight" must be at least 0 (0 stops new traffic)` })
    .max(MAX_WEIGHT, { message: `"weight" must be at most ${MAX_WEIGHT}` }),
});

const ADMIN_ACTIONS = { drain: 'draining', disable: 'disabled', enable: 'enabled' } as const satisfies Record<string, AdminState>;
type AdminAction = keyof typeof ADMIN_ACTIONS;

/**
 * Operator control of the live gateway pools: drain, disable, enable, weight,
 * reset of a held failover. Every change is logged and recorded as an event,
 * and the answer is the endpoint's new state (with its in-flight count, so a
 * drain can be waited on).
 */
export function gatewayRoutes(deps: GatewayRouteDependencies): Hono {
  const app = new Hono();
  app.get('/gateway', (c) => c.json({ services: deps.gateway.snapshot() }));
  app.get('/gateway/:service', (c) => {
    const name = c.req.param('service');
    poolOf(deps.gateway, name);
    return c.json({ service: name, ...(deps.gateway.snapshot()[name] as object) });
  });

  for (const action of Object.keys(ADMIN_ACTIONS) as AdminAction[]) {
    app.post(`/gateway/:service/endpoints/:endpoint/${action}`, async (c) => {
      const { service, endpoint } = c.req.param();
      const pool = poolOf(deps.gateway, service);
      const before = endpointOf(pool, endpoint);
      pool.setAdminState(endpoint, ADMIN_ACTIONS[action]);
      await deps.gateway.poolChanged?.(service);
      return c.json(await record(deps, c, `endpoint.${action}`, service, pool, endpoint, { from: before.admin, to: ADMIN_ACTIONS[action] }));
    });
  }

  app.put('/gateway/:service/endpoints/:endpoint/weight', bodyLimit({ maxSize: 4096, onError: tooLarge }), async (c) => {
    const { service, endpoint } = c.req.param();
    const pool = poolOf(deps.gateway, service);
    const before = endpointOf(pool, endpoint);
    const body = parseWeight(await c.req.json().catch(() => undefined));
    pool.setWeight(endpoint, body.weight);
    await deps.gateway.poolChanged?.(service);
    return c.json(await record(deps, c, 'endpoint.weight', service, pool, endpoint, { from: before.weight, to: body.weight }));
  });

  app.post('/gateway/:service/reset-failover', async (c) => {
    const service = c.req.param('service');
    const pool = poolOf(deps.gateway, service);
    const before = pool.snapshot();
    const level = pool.resetFailover();
    await deps.gateway.poolChanged?.(service);
    const by = actor(c);
    const data = { by, from: before.level, heldLevel: before.heldLevel ?? null, to: level };
    deps.log.warn({ service, ...data }, 'gateway failover hold reset by an operator');
    await audit(deps, { kind: 'pool.reset-failover', subject: service, data });
    return c.json({ service, ...(deps.gateway.snapshot()[service] as object) });
  });
  return app;
}

function poolOf(gateway: GatewayAdmin, name: string): EndpointPool {
  const pool = gateway.pool?.(name) ?? gateway.service(name)?.pool;
  if (pool) return pool;
  const known = Object.keys(gateway.snapshot());
  throw new BulwarkError('NOT_FOUND', `service "${name}" has no gateway`, {
    hint: known.length > 0
      ? `services with a gateway: ${known.join(', ')}`
      : 'no service has a gateway: give a service `listen: HOST:PORT` in bulwark.yaml',
    context: { service: name },
  });
}

function endpointOf(pool: EndpointPool, id: string): EndpointSnapshot {
  const found = pool.snapshot().endpoints.find((e) => e.id === id);
  if (found) return found;
  const known = pool.snapshot().endpoints.map((e) => e.id);
  throw new BulwarkError('NOT_FOUND', `no endpoint "${id}" in this service's pool`, {
    hint: known.length > 0 ? `known endpoints: ${known.join(', ')}` : 'the pool has no endpoints',
    context: { endpoint: id },
  });
}

async function record(
  deps: GatewayRouteDependencies, c: Context, kind: string, service: string, pool: EndpointPool, id: string, change: Record<string, unknown>,
): Promise<{ service: string; level: string; endpoint: EndpointSnapshot }> {
  const snapshot = pool.snapshot();
  const endpoint = snapshot.endpoints.find((e) => e.id === id) as EndpointSnapshot;
  const data = { by: actor(c), ...change, active: endpoint.active, level: snapshot.level };
  deps.log.warn({ service, endpoint: id, action: kind, ...data }, 'gateway endpoint changed by an operator');
  await audit(deps, { kind, subject: `${service}/${id}`, data });
  return { service, level: snapshot.level, endpoint };
}

/** The change is already in effect; an audit write that fails is logged loudly rather than undoing it. */
async function audit(deps: GatewayRouteDependencies, event: { kind: string; subject: string; data: unknown }): Promise<void> {
  try {
    await deps.store.appendEvent({ subsystem: 'gateway', ...event });
  } catch (err) {
    deps.log.error({ ...event, err: errorMessage(err) }, 'could not record a gateway audit event');
  }
}

/** The token's name when the guard set it; else `api`. */
function actor(c: Context): string {
  return c.get('tokenName') ?? 'api';
}

function parseWeight(value: unknown): z.infer<typeof weightBody> {
  if (value === undefined) throw new BulwarkError('BAD_REQUEST', 'expected a JSON body such as {"weight": 50}', { hint: 'send Content-Type: application/json' });
  const parsed = weightBody.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new BulwarkError('BAD_REQUEST', `invalid request body: ${issue?.message ?? 'expected {"weight": N}'}`, {
    hint: `send {"weight": N} with N a whole number from 0 to ${MAX_WEIGHT}; 0 stops new traffic, 100 is the default`,
  });
}

function tooLarge(): never {
  throw new BulwarkError('BAD_REQUEST', 'request body too large');
}
