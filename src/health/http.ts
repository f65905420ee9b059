import type { LiveAnswer, ReadyAnswer } from './types.js';

/** Media type of the IETF health check response format draft; JSON underneath. */
export const HEALTH_CONTENT_TYPE = 'application/health+json';

export interface HealthRouteOptions {
  /** Path of the shallow liveness answer. Default `/livez`. */
  livePath?: string;
  /** Path of the deep readiness answer. Default `/readyz`. */
  readyPath?: string;
}

export interface HealthPaths {
  live: string;
  ready: string;
}

export function healthPaths(options: HealthRouteOptions = {}): HealthPaths {
  const live = options.livePath ?? '/livez';
  const ready = options.readyPath ?? '/readyz';
  for (const path of [live, ready]) {
    if (!path.startsWith('/')) throw new TypeError(`health routes: path "${path}" must start with "/"`);
  }
  if (live === ready) throw new TypeError(`health routes: livePath and readyPath are both "${live}"; give them different paths`);
  return { live, ready };
}

/** Headers of every health answer: probes must never see a proxy's cached copy. */
export const HEALTH_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': HEALTH_CONTENT_TYPE,
  'cache-control': 'no-store',
});

export interface HttpAnswer {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: string;
}

export function toHttp(answer: LiveAnswer | ReadyAnswer): HttpAnswer {
  return { status: answer.httpStatus, headers: HEALTH_HEADERS, body: JSON.stringify(answer.body) };
}

/** The answer served if readiness itself broke (it is built never to reject). */
export function internalFailure(): HttpAnswer {
  const body = { status: 'fail', timestamp: new Date().toISOString(), checks: {} };
  return { status: 503, headers: HEALTH_HEADERS, body: JSON.stringify(body) };
}
