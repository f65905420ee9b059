import type { PublicIncident, StatusSnapshot } from '../types.js';
import { STATUS_CSS_VERSION } from './css.js';
import { html, time, type Html } from './html.js';

const STATUS_WORD: Record<PublicIncident['status'], string> = {
  investigating: 'Investigating', identified: 'Identified', monitoring: 'Monitoring', resolved: 'Resolved',
};

export function incidentStatusWord(status: PublicIncident['status']): string {
  return STATUS_WORD[status];
}

/** The frame of every page: no script, one stylesheet, feed links in the head and the footer. */
export function layout(snap: StatusSnapshot, heading: string | null, body: Html): Html {
  const title = heading === null ? snap.title : `${heading} · ${snap.title}`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title>${snap.description ? html`<meta name="description" content="${snap.description}">` : ''}
<link rel="icon" href="data:,"><link rel="stylesheet" href="/static/status.css?v=${STATUS_CSS_VERSION}">
<link rel="alternate" type="application/rss+xml" title="${snap.title} incidents (RSS)" href="/history.rss">
<link rel="alternate" type="application/atom+xml" title="${snap.title} incidents (Atom)" href="/history.atom">
</head><body>
<header class="top"><a class="brand" href="/">${snap.title}</a></header>
<main>${body}</main>
<footer class="foot"><p>Times are UTC. Updated ${time(snap.at)}.</p>
<p><a href="/subscribe">Subscribe to updates</a> · <a href="/history">Incident history</a> · <a href="/history.rss">RSS</a> · <a href="/history.atom">Atom</a> · <a href="/api/v2/summary.json">JSON</a></p></footer>
</body></html>`;
}

/** One incident's updates, newest first. */
export function updateList(incident: PublicIncident): Html {
  return html`<ol class="updates">${incident.updates.map((u) => html`<li><p><strong>${STATUS_WORD[u.status]}</strong> — ${u.body}</p><p class="when">${time(u.at)}</p></li>`)}</ol>`;
}

const IMPACT_WORD: Record<PublicIncident['impact'], string> = { none: 'No impact', minor: 'Minor impact', major: 'Major impact', critical: 'Critical impact' };

export function incidentSummary(incident: PublicIncident, heading: 'h2' | 'h3'): Html {
  const title = html`<a href="/incidents/${incident.id}">${incident.name}</a>`;
  return html`<article class="incident impact-${incident.impact}">
${heading === 'h2' ? html`<h2>${title}</h2>` : html`<h3>${title}</h3>`}
<p class="meta"><span class="tag">${STATUS_WORD[incident.status]}</span> ${IMPACT_WORD[incident.impact]} · Affects ${incident.components.join(', ')} · Started ${time(incident.createdAt)}${incident.resolvedAt !== null ? html` · Resolved ${time(incident.resolvedAt)}` : ''}</p>
${updateList(incident)}
</article>`;
}
