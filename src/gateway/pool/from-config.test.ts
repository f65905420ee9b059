import { describe, expect, it } from 'vitest';
import { configSchema } from '../../config/index.js';
import { poolEndpointsFromConfig, poolOptionsFromConfig, stickyCookieName } from './from-config.js';
import { EndpointPool } from './pool.js';

function service(extra: Record<string, unknown>) {
  const config = configSchema.parse({
    services: {
      api: {
        endpoints: [
          { url: 'http://10.0.1.10:8080', zone: 'east-a' },
          { url: 'http://10.0.2.10:8080', zone: 'west-a', name: 'west', weight: 20 },
          { url: '10.0.3.10:8080', zone: 'west-b', backup: true },
        ],
        ...extra,
      },
    },
  });
  const api = config.services['api'];
  if (!api) throw new Error('no service');
  return api;
}

describe('pool from config', () => {
  it('derives ids like the probes do (name, else host:port) and keeps zone/backup/weight', () => {
    expect(poolEndpointsFromConfig(service({}))).toEqual([
      { id: '10.0.1.10:8080', url: 'http://10.0.1.10:8080', zone: 'east-a', backup: false, weight: 100 },
      { id: 'west', url: 'http://10.0.2.10:8080', zone: 'west-a', backup: false, weight: 20 },
      { id: '10.0.3.10:8080', url: '10.0.3.10:8080', zone: 'west-b', backup: true, weight: 100 },
    ]);
  });

  it('maps load_balancing and failover, and builds a working pool', () => {
    const svc = service({
      load_balancing: { algorithm: 'weighted', sticky_sessions: { cookie: 'srv' } },
      failover: { primary_zones: ['east-a'], min_healthy_share: '50%', failback: false },
    });
    const options = poolOptionsFromConfig(svc);
    expect(options).toEqual({ algorithm: 'weighted', failover: { primaryZones: ['east-a'], minHealthyShare: 0.5, failback: false } });
    expect(stickyCookieName(svc)).toBe('srv');
    expect(stickyCookieName(service({ load_balancing: { sticky_sessions: true } }))).toBe('bulwark_sticky');
    expect(stickyCookieName(service({}))).toBeUndefined();
    const pool = new EndpointPool(poolEndpointsFromConfig(svc), options);
    expect(pool.pick()?.endpoint.id).toBe('10.0.1.10:8080');
  });
});
