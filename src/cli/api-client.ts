import { BulwarkError, type ErrorCode } from '../core/errors.js';
import { loadConfigFile } from '../config/index.js';

export interface ApiTarget {
  url: string;
  token: string;
}

/** Where the daemon's API is: --url, $BULWARK_URL, the config's api.listen, or the default. */
export async function resolveApi(options: { url?: string; token?: string; config?: string }): Promise<ApiTarget> {
  const token = options.token ?? process.env.BULWARK_TOKEN;
  if (!token) {
    throw new BulwarkError('USAGE', 'an API token is needed', {
      hint: 'pass --token or set BULWARK_TOKEN; create one with: bulwark token create --name NAME',
    });
  }
  let url = options.url ?? process.env.BULWARK_URL;
  if (!url && options.config) {
    const loaded = await loadConfigFile(options.config, { lint: false, unresolvedSecrets: 'warning' });
    const listen = loaded.config?.api.listen;
    if (listen) url = `http://${listen.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^:/, '127.0.0.1:')}`;
  }
  return { url: (url ?? 'http://127.0.0.1:9180').replace(/\/$/, ''), token };
}

/** GET a JSON document from the API; every failure says what to check. */
export async function getJson<T>(api: ApiTarget, path: string, timeoutMs = 10_000): Promise<T> {
  return call<T>(api, 'GET', path, undefined, timeoutMs);
}

/** Send a JSON body (or none) with METHOD; the answer's JSON, or a typed error: 401 AUTH_INVALID, 404 NOT_FOUND, 400 BAD_REQUEST. */
export async function sendJson<T>(api: ApiTarget, method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, timeoutMs = 10_000): Promise<T> {
  return call<T>(api, method, path, body, timeoutMs);
}

async function call<T>(api: ApiTarget, method: string, path: string, body: unknown, timeoutMs: number): Promise<T> {
  let response: Response;
  const headers: Record<string, string> = { authorization: `Bearer ${api.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    response = await fetch(`${api.url}${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new BulwarkError('API_UNREACHABLE', `cannot reach the Bulwark API at ${api.url}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`, {
      hint: 'is `bulwark up` running? Pass --url or set BULWARK_URL if it listens elsewhere',
    });
  }
  const answer = (await response.json().catch(() => ({}))) as { error?: { message?: string; hint?: string } } & T;
  if (!response.ok) {
    throw new BulwarkError(codeFor(response.status), `API answered ${response.status}: ${answer.error?.message ?? 'no details'}`, { hint: answer.error?.hint });
  }
  return answer;
}

function codeFor(status: number): ErrorCode {
  if (status === 401) return 'AUTH_INVALID';
  if (status === 404) return 'NOT_FOUND';
  if (status === 400) return 'BAD_REQUEST';
  return 'INTERNAL';
}
