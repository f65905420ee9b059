import { Hono } from 'hono';
import { MAX_WEIGHT, type AdminState, type EndpointPool, type EndpointSnapshot } from '../../gateway/index.js';
import type { TargetView } from '../../probes/index.js';
import { act, audit, badInput } from '../actions.js';
import { availabilityChart, lastDay } from '../chart.js';
import type { DashboardDeps } from '../deps.js';
import { BASE, type DashEnv } from '../guard.js';
import { csrfField, html, statusCell, table, when, type Html } from '../html.js';
import type { Session } from '../sessions.js';

const ACTIONS = { drain: 'draining', disable: 'disabled', enable: 'enabled' } as const satisfies Record<string, AdminState>;

/** Each service: its endpoints from every vantage point, the last day's availability, and its gateway pool with controls. */
export async function servicesBody(deps: DashboardDeps, session: Session): Promise<Html> {
  const targets = deps.probes.targetViews();
  const status = new Map(deps.probes.ownerViews().map((o) => [`${o.kind}/${o.name}`, o.status]));
  const now = (deps.now ?? Date.now)();
  const sections = await Promise.all(Object.keys(deps.config().services).map(async (name) => {
    const mine = targets.filter((t) => t.owner.kind === 'service' && t.owner.name === name);
    const bars = await lastDay(deps.store, mine.map((t) => t.id), now);
    const pool = deps.gateway.pool?.(name) ?? deps.gateway.service(name)?.pool;
    return html`<section aria-labelledby="svc-${name}"><h2 id="svc-${name}">${name} ${statusCell(`service/${name}`, status.get(`service/${name}`) ?? 'unknown')}</h2>
${availabilityChart(name, bars)}
${table(['endpoint', 'zone', 'status', 'since', 'reason', 'vantage points'], mine.map(targetRow), `${name}: endpoints as the probes see them`)}
${pool ? poolTable(name, pool, session) : html`<p class="muted">No gateway in front of ${name}.</p>`}</section>`;
  }));
  return sections.length > 0 ? html`${sections}` : html`<p>No services are configured.</p>`;
}

function targetRow(t: TargetView): Html {
  return html`<tr><th scope="row">${t.member}${t.backup ? ' (backup)' : ''}</th><td>${t.zone ?? '–'}</td><td>${statusCell(`target/${t.id}`, t.status)}</td><td>${when(t.since)}</td><td>${t.reason || '–'}</td>
<td>${t.vantages.length === 0 ? 'no results yet' : t.vantages.map((v) => html`<span class="status s-${v.status}">${v.vantage}: ${v.status}${v.reporting ? '' : ' (not reporting)'}</span> `)}</td></tr>`;
}

function poolTable(service: string, pool: EndpointPool, session: Session): Html {
  const snap = pool.snapshot();
  return table(['endpoint', 'health', 'admin', 'serving', 'in flight', 'weight', 'controls'], snap.endpoints.map((e) => poolRow(service, e, session)),
    `${service}: gateway pool (${snap.algorithm}, level ${snap.level})`);
}

function poolRow(service: string, e: EndpointSnapshot, session: Session): Html {
  const base = `${BASE}/services/${encodeURIComponent(service)}/endpoints/${encodeURIComponent(e.id)}`;
  const buttons = (Object.keys(ACTIONS) as Array<keyof typeof ACTIONS>).filter((a) => ACTIONS[a] !== e.admin)
    .map((a) => html`<form class="inline" method="post" action="${base}/${a}">${csrfField(session)}<button type="submit">${a[0]?.toUpperCase()}${a.slice(1)} ${e.id}</button></form>`);
  return html`<tr><th scope="row">${e.id}<br><span class="muted">${e.url}</span></th><td>${e.health}</td><td data-admin="${e.id}">${e.admin}</td><td>${e.serving ? 'yes' : 'no'}</td><td>${e.active}</td><td>${e.weight}</td>
<td>${buttons}<form class="inline" method="post" action="${base}/weight">${csrfField(session)}<label for="w-${service}-${e.id}">Weight</label><input id="w-${service}-${e.id}" name="weight" type="number" min="0" max="${MAX_WEIGHT}" step="1" value="${e.weight}" required><button type="submit">Set</button></form></td></tr>`;
}

/** The gateway controls: the same pool calls, worker sync and audit event as the API's gateway routes. */
export function serviceActions(deps: DashboardDeps): Hono<DashEnv> {
  const app = new Hono<DashEnv>();
  const back = `${BASE}/services`;
  for (const action of Object.keys(ACTIONS) as Array<keyof typeof ACTIONS>) {
    app.post(`/services/:service/endpoints/:endpoint/${action}`, (c) => act(c, deps, back, async (actor) => {
      const { service, endpoint } = c.req.param();
      const pool = poolOf(deps, service);
      const before = endpointOf(pool, endpoint);
      pool.setAdminState(endpoint, ACTIONS[action]);
      await deps.gateway.poolChanged?.(service);
      await record(deps, `endpoint.${action}`, service, pool, endpoint, { by: actor, from: before.admin, to: ACTIONS[action] });
      return `${service}/${endpoint}: ${ACTIONS[action]}`;
    }));
  }
  app.post('/services/:service/endpoints/:endpoint/weight', (c) => act(c, deps, back, async (actor, form) => {
    const { service, endpoint } = c.req.param();
    const pool = poolOf(deps, service);
    const before = endpointOf(pool, endpoint);
    const weight = Number(form.weight);
    if (!/^\d+$/.test(form.weight ?? '') || weight > MAX_WEIGHT) throw badInput(`weight must be a whole number from 0 to ${MAX_WEIGHT}`);
    pool.setWeight(endpoint, weight);
    await deps.gateway.poolChanged?.(service);
    await record(deps, 'endpoint.weight', service, pool, endpoint, { by: actor, from: before.weight, to: weight });
    return `${service}/${endpoint}: weight ${weight}`;
  }));
  return app;
}

function poolOf(deps: DashboardDeps, service: string): EndpointPool {
  const pool = deps.gateway.pool?.(service) ?? deps.gateway.service(service)?.pool;
  if (!pool) throw badInput(`service "${service}" has no gateway`);
  return pool;
}

function endpointOf(pool: EndpointPool, id: string): EndpointSnapshot {
  const found = pool.snapshot().endpoints.find((e) => e.id === id);
  if (!found) throw badInput(`no endpoint "${id}" in this service's pool`);
  return found;
}

async function record(deps: DashboardDeps, kind: string, service: string, pool: EndpointPool, id: string, change: Record<string, unknown>): Promise<void> {
  const snapshot = pool.snapshot();
  const endpoint = snapshot.endpoints.find((e) => e.id === id);
  const data = { ...change, active: endpoint?.active ?? 0, level: snapshot.level, via: 'dashboard' };
  deps.log.warn({ service, endpoint: id, action: kind, ...data }, 'gateway endpoint changed by an operator');
  await audit(deps, { subsystem: 'gateway', kind, subject: `${service}/${id}`, data });
}
