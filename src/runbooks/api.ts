import type { AdminApi } from './types.js';

/** The daemon's admin API over HTTP with a bearer token; any status is an answer, only "unreachable" throws. */
export function httpAdminApi(target: { url: string; token: string }, timeoutMs = 30_000): AdminApi {
  return {
    async call(method, path, body, signal) {
      const headers: Record<string, string> = { authorization: `Bearer ${target.token}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const timeout = AbortSignal.timeout(timeoutMs);
      let response: Response;
      try {
        response = await fetch(`${target.url}${path}`, {
          method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
      } catch (err) {
        const cause = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
        throw new Error(`cannot reach the Bulwark API at ${target.url}: ${cause}; is bulwark up running?`, { cause: err });
      }
      const text = await response.text();
      return { status: response.status, body: parseBody(text) };
    },
  };
}

function parseBody(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { text: text.slice(0, 500) };
  }
}
