import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { TLSSocket } from 'node:tls';
import { evaluateAll, type Condition } from '../../conditions/index.js';
import { DEFAULT_MAX_BODY_BYTES, type CheckContext, type CheckResult, type CheckType, type FailureReason, type Observations } from '../types.js';
import { classifyError, onDeadline, Stopwatch, timeoutMessage } from './outcome.js';
import { userAgent } from './user-agent.js';

export interface HttpCheckSpec {
  url: string;
  /** Default GET. */
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Parsed with parseCondition; all must hold. */
  conditions?: readonly Condition[];
  /** Accepted status codes. Default: 200-399, unless a condition tests `status`. */
  expectStatus?: number | readonly number[];
  /** Default DEFAULT_MAX_BODY_BYTES; a longer body fails with body_too_large. */
  maxBodyBytes?: number;
  tlsSkipVerify?: boolean;
  /** Extra trusted CA certificates (PEM), for private CAs. */
  ca?: string;
}

interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  responseTimeMs: number;
  certExpiresInDays?: number;
}

interface Failure {
  reason: FailureReason;
  message: string;
  status?: number;
}

type Exchange = { ok: true; response: Response } | ({ ok: false } & Failure);

const MS_PER_DAY = 86_400_000;

export const httpCheck: CheckType<HttpCheckSpec> = { type: 'http', run: runHttpCheck };

export async function runHttpCheck(spec: HttpCheckSpec, context: CheckContext): Promise<CheckResult> {
  const watch = new Stopwatch();
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    return watch.fail('error', `invalid URL "${spec.url}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return watch.fail('error', `unsupported protocol "${url.protocol}" in ${spec.url}; use http: or https:`);
  }
  if (context.signal.aborted) return watch.fail('timeout', timeoutMessage(context));
  const exchange = await exchangeOnce(url, spec, context, watch);
  if (!exchange.ok) {
    const observations: Observations = exchange.status === undefined ? {} : { status: exchange.status };
    return watch.fail(exchange.reason, exchange.message, observations);
  }
  return judge(spec, exchange.response, watch);
}

function exchangeOnce(url: URL, spec: HttpCheckSpec, context: CheckContext, watch: Stopwatch): Promise<Exchange> {
  return new Promise<Exchange>((resolve) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, {
      method: spec.method ?? 'GET',
      headers: { 'user-agent': userAgent(), ...spec.headers },
      // A fresh connection per probe: a pooled socket would hide connect and TLS failures.
      agent: false,
      rejectUnauthorized: !spec.tlsSkipVerify,
      ca: spec.ca,
    });
    let settled = false;
    const settle = (exchange: Exchange): void => {
      if (settled) return;
      settled = true;
      cleanup();
      req.destroy();
      resolve(exchange);
    };
    const cleanup = onDeadline(context, () => settle({ ok: false, reason: 'timeout', message: timeoutMessage(context) }));
    req.on('error', (error) => settle({ ok: false, ...classifyError(error) }));
    req.on('response', (res) => readResponse(res, spec.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, watch, settle));
    req.end(spec.body);
  });
}

function readResponse(res: IncomingMessage, maxBytes: number, watch: Stopwatch, settle: (e: Exchange) => void): void {
  const status = res.statusCode ?? 0;
  const certExpiresInDays = certExpiry(res);
  const tooLarge = (): void =>
    settle({ ok: false, reason: 'body_too_large', message: `response body exceeds ${maxBytes} bytes`, status });
  if (Number(res.headers['content-length']) > maxBytes) return tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxBytes) return tooLarge();
    chunks.push(chunk);
  });
  res.on('error', (error) => settle({ ok: false, ...classifyError(error), status }));
  res.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const response: Response = { status, headers: res.headers, body, responseTimeMs: watch.elapsed(), certExpiresInDays };
    settle({ ok: true, response });
  });
}

function certExpiry(res: IncomingMessage): number | undefined {
  if (!(res.socket instanceof TLSSocket)) return undefined;
  const validTo = Date.parse(res.socket.getPeerCertificate().valid_to ?? '');
  if (Number.isNaN(validTo)) return undefined;
  return Math.round(((validTo - Date.now()) / MS_PER_DAY) * 100) / 100;
}

function judge(spec: HttpCheckSpec, response: Response, watch: Stopwatch): CheckResult {
  const conditions = spec.conditions ?? [];
  const observations = observe(response, conditions);
  if (!statusAccepted(spec, conditions, response.status)) {
    return watch.fail('status', `HTTP ${response.status}`, observations);
  }
  const failed = evaluateAll(conditions, response).filter((evaluation) => !evaluation.ok);
  if (failed.length > 0) {
    return watch.fail('condition', `condition failed: ${failed.map((f) => f.detail).join('; ')}`, observations);
  }
  return watch.pass(observations);
}

function statusAccepted(spec: HttpCheckSpec, conditions: readonly Condition[], status: number): boolean {
  if (spec.expectStatus !== undefined) {
    const accepted = typeof spec.expectStatus === 'number' ? [spec.expectStatus] : spec.expectStatus;
    return accepted.includes(status);
  }
  if (conditions.some((c) => rootOf(c) === 'status')) return true;
  return status >= 200 && status < 400;
}

function rootOf(condition: Condition): string {
  return condition.left.kind === 'field' ? condition.left.root : condition.left.of.root;
}

/** Status, timing, certificate expiry, and only the headers the conditions read. */
function observe(response: Response, conditions: readonly Condition[]): Observations {
  const observations: Observations = { status: response.status, responseTimeMs: response.responseTimeMs };
  if (response.certExpiresInDays !== undefined) observations.certExpiresInDays = response.certExpiresInDays;
  const headers: Record<string, string> = {};
  for (const condition of conditions) {
    if (condition.left.kind !== 'field' || condition.left.root !== 'header') continue;
    const name = String(condition.left.path[0]).toLowerCase();
    const value = response.headers[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  if (Object.keys(headers).length > 0) observations.headers = headers;
  return observations;
}
