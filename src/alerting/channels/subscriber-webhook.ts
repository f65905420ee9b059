import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import type { Channel, DeliveryResult, OutgoingMessage } from '../types.js';
import { checkTargetUrl, guardedLookup } from './address-guard.js';
import { Deadline } from './deadline.js';
import { postBounded, safePost } from './safe-http.js';
import { signWebhook } from './webhook.js';

/**
 * Webhooks of the public status page's subscribers: one built-in channel,
 * named STATUS_SUBSCRIBERS_CHANNEL, whose URL comes with each message
 * (`fields.url`). Anyone on the internet can subscribe a URL, so unlike a
 * configured channel (whose author may point it at a local relay) it sends
 * only to public addresses: loopback, private, shared, link-local, unique-local
 * and multicast ranges are refused, checked again on the addresses the socket
 * connects to (DNS rebinding).
 */

export const STATUS_SUBSCRIBERS_CHANNEL = 'status-subscribers';

const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 3]] as const) {
  NOT_PUBLIC.addSubnet(net, bits, 'ipv4');
}
// IPv4 rules also match IPv4-mapped IPv6 addresses (::ffff:a.b.c.d).
for (const [net, bits] of [['::', 127], ['64:ff9b::', 96], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) {
  NOT_PUBLIC.addSubnet(net, bits, 'ipv6');
}

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && !NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export interface SubscriberWebhookOptions {
  /** Tests only: let loopback and private receivers through. */
  allowPrivate?: boolean;
  timeoutMs?: number;
  now?: () => number;
}

/** Why a subscriber's URL is refused, before any connection; undefined when it may be tried. */
export function subscriberUrlProblem(raw: string, options: SubscriberWebhookOptions = {}): string | undefined {
  if (raw.length > 2000) return 'the URL is longer than 2000 characters';
  const target = checkTargetUrl(raw);
  if (!target.ok) return target.error.replace('the channel URL', 'the webhook URL');
  const host = target.url.hostname.replace(/^\[|\]$/g, '');
  if (options.allowPrivate) return undefined;
  if (host === 'localhost' || host.endsWith('.localhost')) return 'the webhook URL points at this machine; it must be reachable on the internet';
  if (isIP(host) !== 0 && !isPublicAddress(host)) return `${host} is not a public address; the webhook URL must be reachable on the internet`;
  return undefined;
}

const publicLookup: LookupFunction = (hostname, options, callback) => dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
  if (err) return callback(err, '', 0);
  const refused = addresses.find((a) => !isPublicAddress(a.address));
  if (refused) return callback(Object.assign(new Error(`${hostname} resolves to ${refused.address}, which is not a public address`), { code: 'EBLOCKEDADDRESS' }), '', 0);
  if (options.all) return callback(null, addresses);
  const first = addresses[0];
  if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
  return callback(null, first.address, first.family);
});

let publicAgent: Agent | undefined;
let privateAgent: Agent | undefined;

function dispatcherFor(options: SubscriberWebhookOptions): Dispatcher {
  if (options.allowPrivate) return (privateAgent ??= new Agent({ connect: { lookup: guardedLookup }, keepAliveTimeout: 4_000 }));
  return (publicAgent ??= new Agent({ connect: { lookup: publicLookup }, keepAliveTimeout: 4_000 }));
}

/** What a subscriber's endpoint receives: public wording only (the message was written for the public page). */
export function subscriberPayload(message: OutgoingMessage, sentAtMs: number): Record<string, unknown> {
  const { url: _url, secret: _secret, ...fields } = message.fields;
  return { type: 'status.update', subject: message.subject, text: message.text, links: message.links, fields, sent_at: new Date(sentAtMs).toISOString() };
}

export function subscriberWebhookChannel(options: SubscriberWebhookOptions = {}): Channel {
  const now = options.now ?? Date.now;
  return {
    name: STATUS_SUBSCRIBERS_CHANNEL,
    type: 'subscriber-webhook',
    async send(message, signal): Promise<DeliveryResult> {
      const url = message.fields.url ?? '';
      const problem = subscriberUrlProblem(url, options);
      if (problem !== undefined) return { ok: false, retryable: false, error: problem };
      const sentAtMs = now();
      const timestamp = Math.floor(sentAtMs / 1000);
      const body = JSON.stringify(subscriberPayload(message, sentAtMs));
      const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': message.idempotencyKey, 'x-bulwark-timestamp': String(timestamp) };
      const secret = message.fields.secret;
      // The webhook channel's scheme, under the subscriber's own secret.
      if (secret) headers['x-bulwark-signature'] = signWebhook(secret, timestamp, body);
      return safePost({ url, body, headers, signal, timeoutMs: options.timeoutMs, secrets: [secret], dispatcher: dispatcherFor(options) });
    },
  };
}

/**
 * The webhook's opt-in: POSTs `{type: "subscription.verify", challenge}` and
 * succeeds only when a 2xx answer carries the challenge back (as the body, or
 * anywhere in it, e.g. `{"challenge": "…"}`), so a URL nobody controls cannot
 * be subscribed. Returns undefined on success, else why not (no response body).
 */
export async function verifySubscriberWebhook(url: string, challenge: string, options: SubscriberWebhookOptions & { signal?: AbortSignal } = {}): Promise<string | undefined> {
  const problem = subscriberUrlProblem(url, options);
  if (problem !== undefined) return problem;
  const deadline = new Deadline(options.signal ?? new AbortController().signal, options.timeoutMs ?? 5_000);
  const host = new URL(url).host;
  try {
    const body = JSON.stringify({ type: 'subscription.verify', challenge });
    const res = await postBounded(new URL(url), { url, body, headers: { 'content-type': 'application/json' }, signal: deadline.signal, dispatcher: dispatcherFor(options) }, deadline.signal);
    if (res.status < 200 || res.status >= 300) return `${host} answered ${res.status} to the verification request${res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : ''}`;
    return res.body.includes(challenge) ? undefined : `${host} answered without echoing the challenge`;
  } catch (err) {
    if (deadline.timedOut) return `${host} did not answer the verification request within ${deadline.timeoutMs} ms`;
    const code = (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;
    return code === 'EBLOCKEDADDRESS' ? `${host} does not resolve to a public address` : `${host} could not be reached${code ? ` (${code})` : ''}`;
  } finally {
    deadline.dispose();
  }
}
