import { Hono } from 'hono';
import { BulwarkError } from '../../core/errors.js';
import type { DatabaseAdmin } from '../../api/index.js';
import { act } from '../actions.js';
import type { DashboardDeps } from '../deps.js';
import { BASE, type DashEnv } from '../guard.js';
import { csrfField, duration, html, statusCell, table, when, type Html } from '../html.js';
import type { Session } from '../sessions.js';

type DatabaseView = Awaited<ReturnType<DatabaseAdmin['databases']>>[number];

/** Each PostgreSQL database: members with role and lag, the leader, failover history, and a switchover form. */
export async function databasesBody(deps: DashboardDeps): Promise<Html> {
  const views = await deps.databases.databases();
  const status = new Map(deps.probes.ownerViews().map((o) => [`${o.kind}/${o.name}`, o.status]));
  if (views.length === 0) return html`<p>No PostgreSQL databases are configured.</p>`;
  return html`${views.map((v) => databaseSection(v, status.get(`database/${v.name}`) ?? 'unknown', deps.switchover !== undefined))}`;
}

function databaseSection(v: DatabaseView, status: string, canSwitch: boolean): Html {
  return html`<section aria-labelledby="db-${v.name}"><h2 id="db-${v.name}">${v.name} ${statusCell(`database/${v.name}`, status)}</h2>
<p>Failover: ${v.failover}; leader: ${v.leader ?? 'none known'}${v.sync ? html`; synchronous set: ${v.sync.members.join(', ') || 'empty'}` : ''}${v.etcd_error ? html`; <span class="bad">etcd: ${v.etcd_error}</span>` : ''}</p>
${table(['member', 'address', 'role', 'state', 'timeline', 'LSN', 'lag'], v.members.map((m) => {
    const seen = m.snapshot ?? m.record;
    return html`<tr><th scope="row">${m.name}${m.local ? ' (here)' : ''}</th><td>${m.host}:${m.port}</td><td>${seen?.role ?? 'unknown'}${seen?.fenced ? ' (fenced)' : ''}</td><td>${seen?.state ?? '–'}</td><td>${seen?.timeline ?? '–'}</td><td>${seen?.lsn ?? '–'}</td><td>${seen?.lag_bytes === null || seen?.lag_bytes === undefined ? '–' : `${seen.lag_bytes} bytes`}</td></tr>`;
  }), `${v.name}: members`)}
${table(['when', 'kind', 'from', 'to', 'timeline', 'took'], v.history.map((h) => html`<tr><td>${when(h.at)}</td><th scope="row">${h.kind}</th><td>${h.from ?? '–'}</td><td>${h.to}</td><td>${h.timeline}</td><td>${duration(h.duration_ms)}</td></tr>`), `${v.name}: failover history`)}
${canSwitch && v.failover === 'automatic' && v.leader ? html`<form method="get" action="${BASE}/databases/${encodeURIComponent(v.name)}/switchover"><label for="to-${v.name}">Switch over to</label>
<select id="to-${v.name}" name="to"><option value="">the best standby</option>${v.members.filter((m) => m.name !== v.leader).map((m) => html`<option value="${m.name}">${m.name}</option>`)}</select>
<button type="submit">Switch over…</button></form>` : ''}</section>`;
}

/** The confirmation step: what will happen, and the one form that does it. */
export function confirmBody(database: string, to: string, session: Session): Html {
  return html`<p>Switch over <strong>${database}</strong> to <strong>${to || 'the best standby'}</strong>? The primary stops taking writes until the new one is promoted (seconds); clients reconnect.</p>
<form method="post" action="${BASE}/databases/${encodeURIComponent(database)}/switchover">${csrfField(session)}<input type="hidden" name="to" value="${to}"><input type="hidden" name="confirm" value="yes">
<button type="submit">Yes, switch over ${database}</button> <a href="${BASE}/databases">Cancel</a></form>`;
}

export function databaseActions(deps: DashboardDeps): Hono<DashEnv> {
  const app = new Hono<DashEnv>();
  app.post('/databases/:name/switchover', (c) => act(c, deps, `${BASE}/databases`, async (actor, form) => {
    const name = c.req.param('name');
    if (!deps.switchover) throw new BulwarkError('BAD_REQUEST', 'switchover is not available from this daemon', { hint: `bulwark db switchover ${name}` });
    if (form.confirm !== 'yes') throw new BulwarkError('BAD_REQUEST', 'the switchover was not confirmed');
    const result = await deps.switchover(name, form.to || undefined, actor);
    await deps.store.appendEvent({ subsystem: 'postgres-ha', kind: 'switchover.requested', subject: name, data: { by: actor, from: result.from, to: result.to ?? null, via: 'dashboard' } });
    return `switchover of ${name} requested: ${result.from} → ${result.to ?? 'the best standby'}`;
  }));
  return app;
}
