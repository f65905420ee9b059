import { Hono } from 'hono';
import type { Incident, IncidentDetail } from '../../alerting/index.js';
import { act, badInput } from '../actions.js';
import type { DashboardDeps } from '../deps.js';
import { BASE, type DashEnv } from '../guard.js';
import { csrfField, html, table, when, type Html } from '../html.js';
import type { Session } from '../sessions.js';

const MAX_TEXT = 4000;

export async function incidentsBody(deps: DashboardDeps): Promise<Html> {
  const open = await deps.incidents.list({ states: ['triggered', 'acknowledged'], limit: 200 });
  const recent = await deps.incidents.list({ states: ['resolved'], limit: 50 });
  return html`<h2>Open</h2>${incidentTable(open)}<h2>Recently resolved</h2>${incidentTable(recent)}`;
}

function incidentTable(incidents: readonly Incident[]): Html {
  return table(['id', 'severity', 'state', 'title', 'opened', 'acknowledged by', 'resolved by'], incidents.map((i) => html`<tr>
<th scope="row"><a href="${BASE}/incidents/${i.id}">#${i.id}</a></th><td>${i.severity}</td><td class="${i.state === 'triggered' ? 'bad' : ''}">${i.state}</td><td><a href="${BASE}/incidents/${i.id}">${i.title}</a></td>
<td>${when(i.openedAt)}</td><td>${i.acknowledgedBy ?? '–'}</td><td>${i.resolvedBy ?? '–'}</td></tr>`));
}

/** One incident: its facts, the timeline (notes included), and the operator's forms. */
export function incidentBody(d: IncidentDetail, session: Session): Html {
  const i = d.incident;
  const base = `${BASE}/incidents/${i.id}`;
  return html`<dl class="facts"><dt>State</dt><dd>${i.state}</dd><dt>Severity</dt><dd>${i.severity}</dd><dt>Rule</dt><dd>${i.rule}</dd><dt>Opened</dt><dd>${when(i.openedAt)}</dd>
${i.owner ? html`<dt>Owner</dt><dd>${i.owner}</dd>` : ''}${i.rootCause ? html`<dt>Root cause</dt><dd>${i.rootCause}</dd>` : ''}${i.resolution ? html`<dt>Resolution</dt><dd>${i.resolution}</dd>` : ''}</dl>
<h2>Timeline</h2>
${table(['when', 'what', 'who', 'details'], d.timeline.map((e) => html`<tr><td>${when(e.at)}</td><th scope="row">${e.kind}</th><td>${e.actor}</td><td>${detailText(e.data)}</td></tr>`))}
${i.state === 'resolved' ? '' : html`<h2>Act</h2>
${i.state === 'triggered' ? html`<form method="post" action="${base}/ack">${csrfField(session)}<button type="submit">Acknowledge</button></form>` : ''}
<form method="post" action="${base}/resolve">${csrfField(session)}
<p><label for="root_cause">Root cause</label><br><textarea id="root_cause" name="root_cause" rows="2" maxlength="${MAX_TEXT}"></textarea></p>
<p><label for="resolution">Resolution</label><br><textarea id="resolution" name="resolution" rows="2" maxlength="${MAX_TEXT}"></textarea></p>
<button type="submit">Resolve</button></form>`}
<h2>Add a note</h2>
<form method="post" action="${base}/notes">${csrfField(session)}
<p><label for="note">Note</label><br><textarea id="note" name="text" rows="3" maxlength="${MAX_TEXT}" required></textarea></p>
<p><input type="checkbox" id="public" name="public" value="1"> <label for="public">Also post it on the public status page</label></p>
<button type="submit">Add note</button></form>`;
}

function detailText(data: unknown): string {
  if (data === null || data === undefined) return '';
  if (typeof data === 'object' && 'text' in data && typeof (data as { text: unknown }).text === 'string') return (data as { text: string }).text;
  const text = JSON.stringify(data);
  return text === '{}' ? '' : text.slice(0, 500);
}

/** Acknowledge, resolve and note through the alerting room's IncidentActions, with the token's name as the actor. */
export function incidentActions(deps: DashboardDeps): Hono<DashEnv> {
  const app = new Hono<DashEnv>();
  const back = (id: number) => `${BASE}/incidents/${id}`;
  app.post('/incidents/:id/ack', (c) => act(c, deps, back(idOf(c.req.param('id'))), async (actor) => {
    const i = await deps.incidents.acknowledge(idOf(c.req.param('id')), actor);
    return `incident #${i.id} acknowledged`;
  }));
  app.post('/incidents/:id/resolve', (c) => act(c, deps, back(idOf(c.req.param('id'))), async (actor, form) => {
    const rootCause = text(form.root_cause, false);
    const resolution = text(form.resolution, false);
    const i = await deps.incidents.resolve(idOf(c.req.param('id')), actor, { ...(rootCause ? { rootCause } : {}), ...(resolution ? { resolution } : {}) });
    return `incident #${i.id} resolved`;
  }));
  app.post('/incidents/:id/notes', (c) => act(c, deps, back(idOf(c.req.param('id'))), async (actor, form) => {
    const i = await deps.incidents.note(idOf(c.req.param('id')), actor, text(form.text, true) as string, { public: form.public === '1' });
    return `note added to incident #${i.id}`;
  }));
  return app;
}

export function idOf(raw: string): number {
  return /^[1-9]\d{0,14}$/.test(raw) ? Number(raw) : 0;
}

function text(raw: string | undefined, required: boolean): string | undefined {
  const trimmed = (raw ?? '').trim();
  if (trimmed === '') {
    if (required) throw badInput('the note is empty');
    return undefined;
  }
  if (trimmed.length > MAX_TEXT) throw badInput(`at most ${MAX_TEXT} characters`);
  return trimmed;
}
