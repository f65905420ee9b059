import type { PublicIncident, StatusSnapshot } from '../types.js';
import { html, monthName, type Html } from './html.js';
import { incidentSummary, layout } from './layout.js';

export function incidentPage(snap: StatusSnapshot, incident: PublicIncident): Html {
  return layout(snap, incident.name, html`${incidentSummary(incident, 'h2')}<p class="more"><a href="/">Current status</a> · <a href="/history">Incident history</a></p>`);
}

export function notFoundPage(snap: StatusSnapshot): Html {
  return layout(snap, 'Not found', html`<h1>Not found</h1><p>There is nothing at this address. <a href="/">Current status</a></p>`);
}

/** `YYYY-MM` of an instant, in UTC. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

export function shiftMonth(month: string, by: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return monthOf(Date.UTC(y, m - 1 + by, 1));
}

/** The archive, a month a page, newest first. */
export function historyPage(snap: StatusSnapshot, month: string): Html {
  const incidents = snap.incidents.filter((i) => monthOf(i.createdAt) === month);
  const current = monthOf(snap.at);
  const older = shiftMonth(month, -1);
  const newer = shiftMonth(month, 1);
  const body = html`<h1>Incident history: ${monthName(month)}</h1>
${incidents.length === 0 ? html`<p>No incidents reported this month.</p>` : incidents.map((i) => incidentSummary(i, 'h2'))}
<nav class="pager" aria-label="Months"><a href="/history?month=${older}">← ${monthName(older)}</a>${month < current ? html` <a href="/history?month=${newer}">${monthName(newer)} →</a>` : ''}</nav>`;
  return layout(snap, `History ${monthName(month)}`, body);
}
