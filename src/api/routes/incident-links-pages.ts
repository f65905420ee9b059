import { html } from 'hono/html';
import type { Incident, LinkAction } from '../../alerting/index.js';

/** A well-formed signed link; whether its signature holds is the engine's to say. */
export interface Link {
  id: number;
  action: LinkAction;
  actor: string;
  expires: number;
  signature: string;
}

type Page = ReturnType<typeof html>;

const VERB: Record<LinkAction, { ask: string; button: string; done: string; cli: string }> = {
  acknowledge: { ask: 'Acknowledge', button: 'Acknowledge incident', done: 'Acknowledged', cli: 'ack' },
  resolve: { ask: 'Resolve', button: 'Resolve incident', done: 'Resolved', cli: 'resolve' },
};

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.4rem}.title{font-weight:600}.muted{color:#555;font-size:.9rem}
button{font-size:1rem;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#1f5fbf;color:#fff;cursor:pointer}
code{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px}`;

function layout(title: string, body: Page): Page {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${title} · Bulwark</title><style>${STYLE}</style></head>
<body>${body}</body></html>`;
}

function when(at: number | null): string {
  return at === null ? 'an unknown time' : new Date(at).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
}

function summary(incident: Incident): Page {
  const ack = incident.state === 'acknowledged' ? html`, acknowledged by ${incident.acknowledgedBy ?? 'someone'} at ${when(incident.acknowledgedAt)}` : '';
  return html`<p class="title">${incident.title}</p>
<p>State: <strong>${incident.state}</strong>${ack}. Severity: ${incident.severity}. Opened ${when(incident.openedAt)}.</p>`;
}

/** GET: shows the incident and asks; only the form's POST acts. */
export function confirmPage(link: Link, incident: Incident): Page {
  const verb = VERB[link.action];
  if (incident.state === 'resolved') return resolvedPage(link, incident);
  if (link.action === 'acknowledge' && incident.state === 'acknowledged') {
    return layout(`Incident #${link.id}`, html`<h1>Incident #${link.id} is already acknowledged</h1>${summary(incident)}
<p>Nothing to do: the escalation is already stopped.</p>`);
  }
  return layout(`${verb.ask} incident #${link.id}`, html`<h1>${verb.ask} incident #${link.id}?</h1>
${summary(incident)}
<form method="post">
<input type="hidden" name="actor" value="${link.actor}">
<input type="hidden" name="expires" value="${String(link.expires)}">
<input type="hidden" name="sig" value="${link.signature}">
<button type="submit">${verb.button}</button>
</form>
<p class="muted">You act as ${link.actor}. Nothing has changed yet: opening this page only asks.</p>`);
}

export function actedPage(link: Link, incident: Incident): Page {
  const verb = VERB[link.action];
  const by = link.action === 'acknowledge' ? incident.acknowledgedBy : incident.resolvedBy;
  const at = link.action === 'acknowledge' ? incident.acknowledgedAt : incident.resolvedAt;
  return layout(`${verb.done} incident #${link.id}`, html`<h1>${verb.done} by ${by ?? `link:${link.actor}`} at ${when(at)}</h1>
${summary(incident)}
<p class="muted">Add a note or the root cause from the command line: <code>bulwark incident note ${String(link.id)} TEXT</code>.</p>`);
}

export function resolvedPage(link: Link, incident: Incident): Page {
  return layout(`Incident #${link.id}`, html`<h1>Incident #${link.id} is already resolved</h1>
<p class="title">${incident.title}</p>
<p>It was resolved by ${incident.resolvedBy ?? 'Bulwark'} at ${when(incident.resolvedAt)}. There is nothing left to do, thank you for looking.</p>`);
}

export function invalidPage(id: number | null): Page {
  const ref = id === null ? 'ID' : String(id);
  return layout('Link invalid or expired', html`<h1>This link is invalid or has expired</h1>
<p>Links in notifications are signed and expire, so an old message cannot act on an incident. Nothing was changed.</p>
<p>Act from the command line instead (with an API token):</p>
<p><code>bulwark incident ack ${ref}</code><br><code>bulwark incident resolve ${ref}</code></p>`);
}

export function notFoundPage(id: number): Page {
  return layout('Incident not found', html`<h1>Incident #${String(id)} does not exist</h1>
<p>List the open incidents with <code>bulwark incident ls</code>.</p>`);
}
