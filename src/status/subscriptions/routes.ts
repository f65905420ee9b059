import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { subscriberUrlProblem, verifySubscriberWebhook, type SubscriberWebhookOptions } from '../../alerting/index.js';
import type { BulwarkConfig } from '../../config/index.js';
import type { AlertingStore, StatusSubscribersStore } from '../../store/index.js';
import { pageComponents } from '../components.js';
import { RateLimiter } from '../rate-limit.js';
import { confirmationEmail, unsubscribeUrl } from './messages.js';
import { confirmForm, message, subscribeForm } from './pages.js';
import { newSubscriptionKey, SUBSCRIPTION_KEY_SETTING, subscriptionToken, verifySubscriptionToken, webhookSecret } from './tokens.js';

export interface SubscriptionDeps {
  store: { readonly statusSubscribers: StatusSubscribersStore; readonly alerting: Pick<AlertingStore, 'enqueue' | 'setting'> };
  config: () => BulwarkConfig;
  now?: () => number;
  /** New rows are in the outbox: wake its sender (AlertingService.outboxChanged). */
  queued?: () => void;
  webhook?: SubscriberWebhookOptions;
  clientAddress?: (c: Context) => string;
  /** Subscribe requests per minute per client address (each may send an email or a verification request). */
  subscribesPerMinute?: number;
}

const MAX_BODY_BYTES = 8 * 1024;
const EMAIL = /^[^\s@<>()[\]\\,;:"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

type Page = ReturnType<typeof message>;
type Outcome = { status: 200 | 202 | 400 | 403 | 404 | 409 | 410 | 429 | 503; heading: string; text: string };

function peer(c: Context): string {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket.remoteAddress ?? 'unknown';
}

export function emailProblem(address: string): string | undefined {
  if (address.length > 254 || !EMAIL.test(address)) return `"${address.slice(0, 254)}" is not an email address we can write to; check it and try again`;
  return undefined;
}

/** The public subscribe, confirm and unsubscribe routes, mounted on the status page's listener. */
export function subscriptionRoutes(deps: SubscriptionDeps): Hono {
  const app = new Hono();
  const now = deps.now ?? Date.now;
  const limiter = new RateLimiter(deps.subscribesPerMinute ?? 10, now);
  let key: Promise<string> | undefined;
  const ctx: Ctx = { deps, now, key: () => (key ??= deps.store.alerting.setting(SUBSCRIPTION_KEY_SETTING, newSubscriptionKey)) };
  const title = () => deps.config().status_page?.title ?? 'Status';
  const show = (c: Context, o: Outcome) => c.html(message(title(), o.heading, o.text) as Page, o.status);

  // Per path, not '*': mounted at '/', a wildcard would wrap every page of the listener.
  const limit = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => show(c, { status: 400, heading: 'Too large', text: 'That request is too large.' }) });
  for (const path of ['/subscribe', '/subscribe/confirm', '/unsubscribe']) {
    app.use(path, limit);
    // Answers carry tokens and addresses: no shared cache may keep them.
    app.use(path, async (c, next) => {
      await next();
      c.header('Cache-Control', 'no-store');
    });
  }
  app.get('/subscribe', (c) => {
    const config = deps.config();
    return c.html(subscribeForm(title(), pageComponents(config).map((p) => p.name), offered(config)) as Page);
  });
  app.post('/subscribe', async (c) => {
    const verdict = limiter.take((deps.clientAddress ?? peer)(c));
    if (!verdict.ok) {
      c.header('Retry-After', String(verdict.retryAfterS));
      return show(c, { status: 429, heading: 'Too many requests', text: 'Too many subscription requests from your address; try again in a minute.' });
    }
    return show(c, await subscribe(ctx, await c.req.parseBody({ all: true }), baseOf(c, deps.config())));
  });
  app.get('/subscribe/confirm', async (c) => {
    const token = c.req.query('token') ?? '';
    if (verifySubscriptionToken(await ctx.key(), 'confirm', token) === null) return show(c, INVALID_LINK);
    return c.html(confirmForm(title(), '/subscribe/confirm', token, `Confirm that you want ${title()} status updates.`, 'Confirm subscription') as Page);
  });
  app.post('/subscribe/confirm', async (c) => show(c, await confirm(ctx, await tokenOf(c))));
  app.get('/unsubscribe', async (c) => {
    const token = c.req.query('token') ?? '';
    if (verifySubscriptionToken(await ctx.key(), 'unsubscribe', token) === null) return show(c, INVALID_LINK);
    return c.html(confirmForm(title(), `/unsubscribe?token=${encodeURIComponent(token)}`, token, `Stop receiving ${title()} status updates?`, 'Unsubscribe') as Page);
  });
  // RFC 8058 one-click: the mail client POSTs `List-Unsubscribe=One-Click` to the URL, token in its query.
  app.post('/unsubscribe', async (c) => show(c, await unsubscribe(ctx, await tokenOf(c))));
  return app;
}

interface Ctx {
  deps: SubscriptionDeps;
  now: () => number;
  key: () => Promise<string>;
}

const INVALID_LINK: Outcome = { status: 403, heading: 'Link not valid', text: 'This link is not valid. Copy the whole link from the email, or subscribe again.' };

function offered(config: BulwarkConfig): { email: boolean; webhooks: boolean } {
  const subs = config.status_page?.subscriptions;
  const channel = subs?.email_channel;
  return { email: channel !== undefined && config.alerting?.channels[channel]?.email !== undefined, webhooks: subs?.webhooks ?? false };
}

function baseOf(c: Context, config: BulwarkConfig): string {
  return (config.status_page?.public_url ?? new URL(c.req.url).origin).replace(/\/+$/, '');
}

async function tokenOf(c: Context): Promise<string> {
  const fromQuery = c.req.query('token');
  if (fromQuery) return fromQuery;
  const body = await c.req.parseBody();
  return typeof body.token === 'string' ? body.token : '';
}

function strings(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.filter((v): v is string => typeof v === 'string').map((v) => v.trim()).filter((v) => v !== '');
}

type Form = Record<string, unknown>;

async function subscribe(ctx: Ctx, form: Form, base: string): Promise<Outcome> {
  const config = ctx.deps.config();
  const [email] = strings(form.email);
  const [webhook] = strings(form.webhook);
  const bad = (text: string): Outcome => ({ status: 400, heading: 'Not subscribed', text });
  if ((email === undefined) === (webhook === undefined)) return bad('Give either an email address or a webhook URL.');
  const known = new Set(pageComponents(config).map((p) => p.name));
  const components = [...new Set(strings(form.components))];
  const unknown = components.find((c) => !known.has(c));
  if (unknown !== undefined) return bad(`There is no component "${unknown.slice(0, 100)}" on this page.`);
  return email !== undefined ? subscribeEmail(ctx, email.toLowerCase(), components, base) : subscribeWebhook(ctx, webhook!, components, base);
}

async function subscribeEmail(ctx: Ctx, address: string, components: string[], base: string): Promise<Outcome> {
  const config = ctx.deps.config();
  const subs = config.status_page!.subscriptions;
  if (!offered(config).email) return { status: 503, heading: 'Not subscribed', text: 'This page does not offer email updates.' };
  const problem = emailProblem(address);
  if (problem !== undefined) return { status: 400, heading: 'Not subscribed', text: problem };
  const now = ctx.now();
  const { subscriber, created } = await ctx.deps.store.statusSubscribers.subscribe({ kind: 'email', address, components, createdAt: now }, { pendingExpiredBefore: now - subs.confirm_within });
  if (created) {
    const key = await ctx.key();
    const channel = subs.email_channel!;
    const mctx = { title: config.status_page!.title, base, now, unsubscribeToken: subscriptionToken(key, 'unsubscribe', subscriber.id), deadlineMs: config.alerting?.channels[channel]?.deadline };
    await ctx.deps.store.alerting.enqueue([confirmationEmail(subscriber, channel, subscriptionToken(key, 'confirm', subscriber.id), subs.confirm_within, mctx)]);
    ctx.deps.queued?.();
  }
  // The same answer whether or not the address was subscribed already: the page does not tell who is.
  return { status: 202, heading: 'Check your inbox', text: `If ${address} is not subscribed yet, we sent it a link to confirm the subscription.` };
}

async function subscribeWebhook(ctx: Ctx, url: string, components: string[], base: string): Promise<Outcome> {
  const config = ctx.deps.config();
  const bad = (text: string, status: Outcome['status'] = 400): Outcome => ({ status, heading: 'Not subscribed', text });
  if (!offered(config).webhooks) return bad('This page does not offer webhook updates.', 503);
  const problem = subscriberUrlProblem(url, ctx.deps.webhook);
  if (problem !== undefined) return bad(`The webhook URL is refused: ${problem}.`);
  const failed = await verifySubscriberWebhook(url, randomBytes(16).toString('hex'), ctx.deps.webhook);
  if (failed !== undefined) return bad(`The webhook did not pass verification: ${failed}. It must answer a POST of {"type":"subscription.verify","challenge":"…"} with a 2xx whose body contains the challenge.`);
  const now = ctx.now();
  const { subscriber, created } = await ctx.deps.store.statusSubscribers.subscribe({ kind: 'webhook', address: url, components, createdAt: now }, { confirmed: true, pendingExpiredBefore: now });
  if (!created) return bad('This webhook is subscribed already.', 409);
  const key = await ctx.key();
  const link = unsubscribeUrl({ base, unsubscribeToken: subscriptionToken(key, 'unsubscribe', subscriber.id) });
  return {
    status: 200, heading: 'Subscribed',
    text: `The webhook is subscribed. Updates carry X-Bulwark-Signature: sha256=HMAC-SHA256(secret, timestamp + "." + body) with X-Bulwark-Timestamp; the secret, shown only now: ${webhookSecret(key, subscriber.id)}. To unsubscribe (every update also carries it): ${link}`,
  };
}

async function confirm(ctx: Ctx, token: string): Promise<Outcome> {
  const id = verifySubscriptionToken(await ctx.key(), 'confirm', token);
  if (id === null) return INVALID_LINK;
  const store = ctx.deps.store.statusSubscribers;
  const subscriber = await store.subscriber(id);
  if (subscriber === null) return { status: 404, heading: 'Not found', text: 'There is no such subscription; subscribe again.' };
  if (subscriber.unsubscribedAt !== null) return { status: 410, heading: 'Subscription ended', text: 'This subscription was cancelled or replaced; subscribe again.' };
  if (subscriber.confirmedAt !== null) return { status: 200, heading: 'Subscribed', text: 'Your subscription is confirmed already.' };
  const within = ctx.deps.config().status_page?.subscriptions.confirm_within ?? 0;
  if (ctx.now() > subscriber.createdAt + within) return { status: 410, heading: 'Link expired', text: 'This confirmation link has expired; subscribe again to get a new one.' };
  await store.confirm(id, ctx.now());
  return { status: 200, heading: 'Subscribed', text: 'Your subscription is confirmed. Every email carries a link to unsubscribe.' };
}

async function unsubscribe(ctx: Ctx, token: string): Promise<Outcome> {
  const id = verifySubscriptionToken(await ctx.key(), 'unsubscribe', token);
  if (id === null) return INVALID_LINK;
  const row = await ctx.deps.store.statusSubscribers.unsubscribe(id, ctx.now());
  if (row === null) return { status: 404, heading: 'Not found', text: 'There is no such subscription.' };
  return { status: 200, heading: 'Unsubscribed', text: 'You will receive no more status updates from us.' };
}
