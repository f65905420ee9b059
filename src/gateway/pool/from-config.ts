import type { ServiceConfig } from '../../config/index.js';
import { endpointName } from '../../core/names.js';
import type { PoolOptions } from './pool.js';
import type { PoolEndpointSpec } from './types.js';

export const DEFAULT_STICKY_COOKIE = 'bulwark_sticky';

/**
 * Pool endpoints of a service. The id is the endpoint's `name`, else its
 * host:port: the same member label the probes use (`service/<name>/<member>`),
 * so probe results map onto pool endpoints and ids persist across reloads.
 */
export function poolEndpointsFromConfig(service: ServiceConfig): PoolEndpointSpec[] {
  return service.endpoints.map((endpoint, index) => ({
    id: endpointName(endpoint, index),
    url: endpoint.url,
    zone: endpoint.zone,
    backup: endpoint.backup,
    weight: endpoint.weight,
  }));
}

/** Algorithm and failover settings of a service. */
export function poolOptionsFromConfig(service: ServiceConfig): Pick<PoolOptions, 'algorithm' | 'failover'> {
  const failover = service.failover;
  return {
    algorithm: service.load_balancing?.algorithm ?? 'round_robin',
    failover: {
      primaryZones: failover?.primary_zones,
      minHealthyShare: failover?.min_healthy_share,
      failback: failover?.failback ?? true,
    },
  };
}

/** The sticky cookie's name, or undefined when sticky sessions are off. */
export function stickyCookieName(service: ServiceConfig): string | undefined {
  const sticky = service.load_balancing?.sticky_sessions;
  if (!sticky) return undefined;
  return sticky === true ? DEFAULT_STICKY_COOKIE : sticky.cookie;
}

