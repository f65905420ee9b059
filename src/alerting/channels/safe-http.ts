import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import type { DeliveryResult } from '../types.js';
import { checkTargetUrl, guardedLookup } from './address-guard.js';
import { Deadline } from './deadline.js';
import { DEFAULT_TIMEOUT_MS } from './options.js';
import { errorText, redact } from './redact.js';

/** Enough for any error a receiver explains itself with; a larger answer is cut off unread. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
const ERROR_BODY_CHARS = 200;
const RETRYABLE_STATUSES = new Set([408, 425, 429]);

export interface PostRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  method?: 'POST' | 'PUT';
  /** Bound on the whole exchange, answer included; default 10 s. */
  timeoutMs?: number;
  signal: AbortSignal;
  /** Values that must never appear in an error (routing keys, secrets); the URL is always among them. */
  secrets?: ReadonlyArray<string | undefined>;
  /** Connection pool; default one resolving through the address guard. */
  dispatcher?: Dispatcher;
}

export interface BoundedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** At most MAX_RESPONSE_BYTES of the answer, decoded as UTF-8. */
  body: string;
  truncated: boolean;
}

let agent: Agent | undefined;

/** One connection pool for every channel, resolving through the address guard. */
function guardedAgent(): Dispatcher {
  agent ??= new Agent({ connect: { lookup: guardedLookup }, keepAliveTimeout: 4_000 });
  return agent;
}

/** Header names are case-insensitive: later sets win over earlier ones whatever their case. */
export function mergeHeaders(...sets: Array<Record<string, string> | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const set of sets) {
    for (const [k, v] of Object.entries(set ?? {})) out[k.toLowerCase()] = v;
  }
  return out;
}

/**
 * POSTs once and classifies the answer. Never follows a redirect, never reads
 * more than MAX_RESPONSE_BYTES, never throws, and keeps the URL (a Slack URL
 * is a credential) and `secrets` out of every error.
 */
export async function safePost(req: PostRequest): Promise<DeliveryResult> {
  const target = checkTargetUrl(req.url);
  if (!target.ok) return { ok: false, retryable: false, error: target.error };
  const secrets = [...(req.secrets ?? []), req.url, target.url.href, pathOf(target.url)];
  const result = await exchange(target.url, req);
  return result.ok ? result : { ...result, error: redact(result.error, secrets) };
}

async function exchange(url: URL, req: PostRequest): Promise<DeliveryResult> {
  const deadline = new Deadline(req.signal, req.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  try {
    const response = await postBounded(url, req, deadline.signal);
    return classifyResponse(response, url.host);
  } catch (err) {
    return classifyError(err, url.host, deadline, req.signal);
  } finally {
    deadline.dispose();
  }
}

export async function postBounded(url: URL, req: PostRequest, signal: AbortSignal): Promise<BoundedResponse> {
  const response = await request(url, {
    method: req.method ?? 'POST',
    headers: req.headers,
    body: req.body,
    signal,
    dispatcher: req.dispatcher ?? guardedAgent(),
  });
  const { text, truncated } = await readBounded(response.body, MAX_RESPONSE_BYTES);
  return { status: response.statusCode, headers: response.headers, body: text, truncated };
}

/** Reads up to `limit` bytes, then destroys the stream (and so the connection) without reading on. */
export async function readBounded(body: Readable, limit: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const room = limit - size;
    chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
    size += Math.min(chunk.length, room);
    if (chunk.length >= room) {
      truncated = chunk.length > room || !body.readableEnded;
      break;
    }
  }
  if (!body.destroyed && !body.readableEnded) body.destroy();
  return { text: Buffer.concat(chunks).toString('utf8'), truncated };
}

export function classifyResponse(res: BoundedResponse, host: string, nowMs = Date.now()): DeliveryResult {
  const { status } = res;
  if (status >= 200 && status < 300) return { ok: true, detail: `${host} answered ${status}` };
  if (status >= 300 && status < 400) {
    const location = headerValue(res.headers, 'location');
    const where = location ? ` to ${describeLocation(location)}` : '';
    return { ok: false, retryable: false, error: `${host} answered ${status}, a redirect${where}; redirects are not followed, so configure the final URL` };
  }
  const error = `${host} answered ${status}${snippet(res.body)}`;
  if (!RETRYABLE_STATUSES.has(status) && status < 500) return { ok: false, retryable: false, error };
  const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(headerValue(res.headers, 'retry-after'), nowMs) : undefined;
  return retryAfterMs === undefined ? { ok: false, retryable: true, error } : { ok: false, retryable: true, error, retryAfterMs };
}

function classifyError(err: unknown, host: string, deadline: Deadline, callerSignal: AbortSignal): DeliveryResult {
  if (deadline.timedOut) return { ok: false, retryable: true, error: `${host}: no complete answer within ${deadline.timeoutMs} ms` };
  if (callerSignal.aborted) return { ok: false, retryable: true, error: `${host}: delivery cancelled` };
  const codes = errorCodes(err);
  if (codes.includes('EBLOCKEDADDRESS')) return { ok: false, retryable: false, error: causeMessage(err, 'EBLOCKEDADDRESS') };
  if (codes.includes('UND_ERR_INVALID_ARG')) return { ok: false, retryable: false, error: `the request to ${host} is invalid: ${errorText(err)}` };
  const code = codes.find((c) => c !== 'UND_ERR_SOCKET') ?? codes[0];
  return { ok: false, retryable: true, error: `${host}: ${errorText(deepestCause(err))}${code ? ` (${code})` : ''}` };
}

/** Retry-After is seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, nowMs = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function headerValue(headers: BoundedResponse['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The Location without its query and credentials, which may carry tokens. */
function describeLocation(location: string): string {
  try {
    const u = new URL(location);
    return `${u.protocol}//${u.host}${u.pathname}`.slice(0, ERROR_BODY_CHARS);
  } catch {
    return location.split('?')[0]!.slice(0, ERROR_BODY_CHARS);
  }
}

function snippet(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim().slice(0, ERROR_BODY_CHARS);
  return text === '' ? '' : `: ${text}`;
}

function pathOf(url: URL): string | undefined {
  const path = url.pathname + url.search;
  return path.length > 1 ? path : undefined;
}

function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e: unknown = err; e !== undefined && e !== null && out.length < 8; e = (e as { cause?: unknown }).cause) out.push(e);
  return out;
}

function errorCodes(err: unknown): string[] {
  return causes(err).map((e) => (e as { code?: unknown }).code).filter((c): c is string => typeof c === 'string');
}

function causeMessage(err: unknown, code: string): string {
  return errorText(causes(err).find((e) => (e as { code?: unknown }).code === code));
}

function deepestCause(err: unknown): unknown {
  const all = causes(err);
  return all[all.length - 1];
}
