import type { ServiceConfig } from './schema.js';

type Endpoint = ServiceConfig['endpoints'][number];

/**
 * The stable name of a service endpoint: its `name`, else `host:port` from its
 * URL. Probes (`service/<svc>/<name>`), the planner and the gateway's pool all
 * key endpoints by it, so a probe result lands on the right pool entry.
 */
export function endpointName(endpoint: Pick<Endpoint, 'name' | 'url'>, index: number): string {
  if (endpoint.name) return endpoint.name;
  try {
    return new URL(endpoint.url.includes('://') ? endpoint.url : `tcp://${endpoint.url}`).host || `endpoint-${index}`;
  } catch {
    return `endpoint-${index}`;
  }
}
