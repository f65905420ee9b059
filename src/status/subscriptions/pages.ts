import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

/** The subscription pages: no script, the page's stylesheet, every value escaped. */

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export function page(title: string, heading: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${heading} · ${title}</title><meta name="robots" content="noindex">
<link rel="stylesheet" href="/static/status.css">
</head><body>
<header class="top"><a class="brand" href="/">${title}</a></header>
<main><h1>${heading}</h1>${body}</main>
</body></html>`;
}

export function message(title: string, heading: string, text: string): Html {
  return page(title, heading, html`<p>${text}</p><p><a href="/">Back to the status page</a></p>`);
}

/** GET of an emailed link only shows this: mail scanners fetch links, and a fetch must change nothing. */
export function confirmForm(title: string, action: string, token: string, question: string, button: string): Html {
  return page(title, button, html`<form method="post" action="${action}">
<p>${question}</p>
<input type="hidden" name="token" value="${token}">
<p><button type="submit">${button}</button></p>
</form>`);
}

export function subscribeForm(title: string, components: readonly string[], options: { email: boolean; webhooks: boolean }): Html {
  if (!options.email && !options.webhooks) return page(title, 'Subscribe to updates', html`<p>This page offers no email or webhook updates; follow the <a href="/history.rss">RSS</a> or <a href="/history.atom">Atom</a> feed instead.</p>`);
  const choices = components.map((c) => html`<label><input type="checkbox" name="components" value="${c}"> ${c}</label><br>`);
  return page(title, 'Subscribe to updates', html`<form method="post" action="/subscribe">
${options.email ? html`<p><label for="email">Email address</label><br><input id="email" name="email" type="email" autocomplete="email" maxlength="254"></p>` : ''}
${options.webhooks ? html`<p><label for="webhook">${options.email ? 'Or a webhook URL' : 'Webhook URL'}</label><br><input id="webhook" name="webhook" type="url" maxlength="2000"></p>` : ''}
${components.length > 0 ? html`<fieldset><legend>Components (none ticked: all of them)</legend>${choices}</fieldset>` : ''}
<p><button type="submit">Subscribe</button></p>
</form>`);
}
