import type { PublicIncident, StatusSnapshot } from './types.js';
import { xmlEscape as x } from './xml.js';

/** RSS 2.0 and Atom 1.0 of the incident history; every text escaped, updates as escaped HTML. */

const FEED_SIZE = 50;
const WORD = { investigating: 'Investigating', identified: 'Identified', monitoring: 'Monitoring', resolved: 'Resolved' } as const;

function updatesHtml(i: PublicIncident): string {
  return i.updates.map((u) => `<p><strong>${x(WORD[u.status])}</strong> (${new Date(u.at).toISOString()}): ${x(u.body)}</p>`).join('');
}

export function rssFeed(snap: StatusSnapshot, base: string): string {
  const items = snap.incidents.slice(0, FEED_SIZE).map((i) => `<item><title>${x(i.name)}</title><link>${x(`${base}/incidents/${i.id}`)}</link>`
    + `<guid isPermaLink="true">${x(`${base}/incidents/${i.id}`)}</guid><pubDate>${new Date(i.createdAt).toUTCString()}</pubDate>`
    + `<description>${x(updatesHtml(i))}</description></item>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>`
    + `<title>${x(`${snap.title}: incident history`)}</title><link>${x(`${base}/`)}</link>`
    + `<description>${x(snap.description ?? `Incidents reported on ${snap.title}`)}</description>`
    + `<atom:link href="${x(`${base}/history.rss`)}" rel="self" type="application/rss+xml"/>`
    + `<lastBuildDate>${new Date(snap.at).toUTCString()}</lastBuildDate>${items.join('')}</channel></rss>\n`;
}

export function atomFeed(snap: StatusSnapshot, base: string): string {
  const updated = Math.max(0, ...snap.incidents.map((i) => i.updatedAt));
  const entries = snap.incidents.slice(0, FEED_SIZE).map((i) => `<entry><id>${x(`${base}/incidents/${i.id}`)}</id><title>${x(i.name)}</title>`
    + `<published>${new Date(i.createdAt).toISOString()}</published><updated>${new Date(i.updatedAt).toISOString()}</updated>`
    + `<link rel="alternate" type="text/html" href="${x(`${base}/incidents/${i.id}`)}"/>`
    + `<content type="html">${x(updatesHtml(i))}</content></entry>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><id>${x(`${base}/`)}</id>`
    + `<title>${x(`${snap.title}: incident history`)}</title><updated>${new Date(updated || snap.at).toISOString()}</updated>`
    + `<author><name>${x(snap.title)}</name></author>`
    + `<link rel="self" type="application/atom+xml" href="${x(`${base}/history.atom`)}"/><link rel="alternate" type="text/html" href="${x(`${base}/`)}"/>`
    + `${entries.join('')}</feed>\n`;
}
