import { BulwarkError } from '../core/errors.js';
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
  let response: Response;
  try {
    response = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${api.token}` }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new BulwarkError('API_UNREACHABLE', `cannot reach the Bulwark API at ${api.url}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`, {
      hint: 'is `bulwark up` running? Pass --url or set BULWARK_URL if it listens elsewhere',
    });
  }
  const body = (await response.json().catch(() => ({}))) as { error?: { message?: string; hint?: string } } & T;
  if (!response.ok) {
    throw new BulwarkError(response.status === 401 ? 'AUTH_INVALID' : 'INTERNAL', `API answered ${response.status}: ${body.error?.message ?? 'no details'}`, { hint: body.error?.hint });
  }
  return body;
}
