import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { BASE } from './guard.js';
import type { Session } from './sessions.js';
import { ASSET_VERSION } from './assets.js';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;
export { html, raw };

const NAV = [
  ['', 'Overview'], ['/services', 'Services'], ['/databases', 'Databases'], ['/backups', 'Backups'],
  ['/incidents', 'Incidents'], ['/plan', 'Plan'], ['/events', 'Events'],
] as const;

export interface PageOptions {
  title: string;
  /** The nav entry to mark current ('' for the overview). */
  current: string;
  session: Session;
  /** From ?msg= / ?err= after a form: a short result line. */
  notice?: { ok: boolean; text: string } | undefined;
}

/** The page around every signed-in view: nav, sign-out form, notice line. */
export function page(o: PageOptions, body: Html): Html {
  return shell(o.title, html`<header class="top">
  <a class="brand" href="${BASE}">Bulwark</a>
  <nav aria-label="Sections"><ul>${NAV.map(([path, label]) => html`<li><a href="${BASE}${path}"${o.current === path ? raw(' aria-current="page"') : ''}>${label}</a></li>`)}</ul></nav>
  <form method="post" action="${BASE}/logout" class="signout">${csrfField(o.session)}<span class="who">${o.session.tokenName}</span> <button type="submit">Sign out</button></form>
</header>
<main id="main">
<h1>${o.title}</h1>
${o.notice ? html`<p class="notice ${o.notice.ok ? 'ok' : 'bad'}" role="status">${o.notice.text}</p>` : ''}
${body}
</main>`, true);
}

/** `live`: load the script that follows status changes (signed-in pages only; the stream needs a session). */
export function shell(title: string, body: Html, live = false): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Bulwark</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${BASE}/static/dashboard.css?v=${ASSET_VERSION}">
${live ? html`<script src="${BASE}/static/live.js?v=${ASSET_VERSION}" defer></script>` : ''}
</head>
<body>
${body}
</body>
</html>`;
}

export function csrfField(session: Session): Html {
  return html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
}

/** A status word in a cell the live script can update (data-status names the subject). */
export function statusCell(key: string, status: string): Html {
  return html`<span class="status s-${status}" data-status="${key}">${status}</span>`;
}

export function verdict(ok: boolean | null, reason?: string): Html {
  if (ok === null) return html`<span class="verdict unknown">no data</span>`;
  return ok ? html`<span class="verdict ok">kept</span>` : html`<span class="verdict bad">not kept${reason ? html`: ${reason}` : ''}</span>`;
}

export function percent(ratio: number | null | undefined, digits = 3): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '–';
  return `${(ratio * 100).toFixed(digits)}%`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.round(m / 60);
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} d`;
}

export function when(at: number | string | null | undefined): Html {
  if (at === null || at === undefined) return html`–`;
  const iso = new Date(at).toISOString();
  return html`<time datetime="${iso}">${iso.replace('T', ' ').slice(0, 19)} UTC</time>`;
}

/** The result line after a form: ?msg=… (done) or ?err=… (refused). */
export function noticeOf(query: (name: string) => string | undefined): PageOptions['notice'] {
  const err = query('err');
  if (err) return { ok: false, text: err.slice(0, 500) };
  const msg = query('msg');
  return msg ? { ok: true, text: msg.slice(0, 500) } : undefined;
}

export function table(headers: readonly string[], rows: readonly Html[], caption?: string): Html {
  return html`<div class="scroll"><table>${caption ? html`<caption>${caption}</caption>` : ''}<thead><tr>${headers.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows.length > 0 ? rows : html`<tr><td colspan="${headers.length}">none</td></tr>`}</tbody></table></div>`;
}
