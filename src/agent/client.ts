import { z } from 'zod';
import { errorMessage } from '../core/errors.js';
import type { AgentResult, Assignment } from './types.js';

/**
 * What went wrong talking to the control plane, by what the agent should do:
 * `unavailable` (network, timeout, 5xx, 408, 429): retry with backoff;
 * `unauthorized` (401/403): stop, the token is wrong; `rejected` (other 4xx): a bug or a misconfiguration.
 */
export type ControlPlaneErrorKind = 'unavailable' | 'unauthorized' | 'rejected';

export class ControlPlaneError extends Error {
  constructor(
    readonly kind: ControlPlaneErrorKind,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ControlPlaneError';
  }
}

export interface ClientOptions {
  /** Base URL of the control plane, e.g. http://10.0.0.5:8600 (a path prefix is kept). */
  url: URL;
  token: string;
  /** Bound on each request. */
  timeoutMs: number;
}

export interface Identity {
  name: string;
  zone?: string;
}

const heartbeatResponse = z.object({
  assignments: z.array(z.object({
    id: z.string(),
    check: z.object({ type: z.string(), spec: z.unknown() }),
    intervalMs: z.number().int().positive(),
    timeoutMs: z.number().int().positive(),
  })),
});

/** The agent's side of the agent protocol: heartbeat (get assignments) and results. */
export class ControlPlaneClient {
  private readonly base: URL;

  constructor(private readonly options: ClientOptions) {
    const base = new URL(options.url.href);
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.base = base;
  }

  async heartbeat(identity: Identity, signal: AbortSignal): Promise<Assignment[]> {
    const body = await this.post('api/v1/agents/heartbeat', identity, signal);
    const parsed = heartbeatResponse.safeParse(body);
    if (!parsed.success) {
      throw new ControlPlaneError('rejected', `the control plane answered the heartbeat with an unexpected body: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    }
    return parsed.data.assignments;
  }

  async results(identity: Identity, results: readonly AgentResult[], signal: AbortSignal): Promise<void> {
    await this.post('api/v1/agents/results', { ...identity, results }, signal);
  }

  private async post(path: string, payload: unknown, signal: AbortSignal): Promise<unknown> {
    const url = new URL(path, this.base);
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.token}` },
        body: JSON.stringify(payload),
        signal: AbortSignal.any([signal, timeout]),
      });
    } catch (err) {
      const why = timeout.aborted ? `no answer within ${this.options.timeoutMs} ms` : describeFetchError(err);
      throw new ControlPlaneError('unavailable', `POST ${url.href}: ${why}`, undefined, { cause: err });
    }
    const text = await readText(res, signal, timeout, url);
    if (res.ok) return text ? parseJson(text, url) : undefined;
    const detail = errorDetail(text);
    if (res.status === 401 || res.status === 403) {
      throw new ControlPlaneError('unauthorized', `the control plane refused the token (HTTP ${res.status}${detail})`, res.status);
    }
    const kind = res.status >= 500 || res.status === 408 || res.status === 429 ? 'unavailable' : 'rejected';
    throw new ControlPlaneError(kind, `POST ${url.href}: HTTP ${res.status}${detail}`, res.status);
  }
}

async function readText(res: Response, signal: AbortSignal, timeout: AbortSignal, url: URL): Promise<string> {
  try {
    return await res.text();
  } catch (err) {
    const why = timeout.aborted ? 'timed out reading the answer' : signal.aborted ? 'aborted' : errorMessage(err);
    throw new ControlPlaneError('unavailable', `POST ${url.href}: ${why}`, res.status, { cause: err });
  }
}

function parseJson(text: string, url: URL): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ControlPlaneError('rejected', `POST ${url.href}: the answer is not JSON; is this a Bulwark control plane?`, undefined, { cause: err });
  }
}

/** The server's own message ("the API token is not valid ..."), when it sent one. */
function errorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } };
    return typeof body.error?.message === 'string' ? `: ${body.error.message}` : '';
  } catch {
    return '';
  }
}

/** fetch hides the useful part ("connect ECONNREFUSED 10.0.0.5:8600") in `cause`. */
function describeFetchError(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.message) return cause.message;
  return errorMessage(err);
}
