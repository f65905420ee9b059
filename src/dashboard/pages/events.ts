import type { DashboardDeps } from '../deps.js';
import { html, table, when, type Html } from '../html.js';

/** The daemon's event log, newest first (the same records as GET /api/v1/events). */
export async function eventsBody(deps: DashboardDeps): Promise<Html> {
  const events = await deps.store.recentEvents({ limit: 200 });
  return table(['when', 'subsystem', 'kind', 'subject', 'details'], events.map((e) => html`<tr><td>${when(e.at)}</td><td>${e.subsystem}</td><th scope="row">${e.kind}</th><td>${e.subject}</td><td>${e.data === null || e.data === undefined ? '' : JSON.stringify(e.data).slice(0, 300)}</td></tr>`));
}
