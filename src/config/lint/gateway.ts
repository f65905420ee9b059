import type { Finding } from '../diagnostics.js';
import type { BulwarkConfig } from '../schema.js';
import { gatewayFronted } from '../topology-gateway.js';

/** Above this, one gateway host's outages alone (a restart, a host lost) can spend the tier's whole budget. */
const SINGLE_GATEWAY_LIMIT = 0.999;

/** A tier above 99.9% behind the built-in gateway needs more than one gateway host, and a way to move between them. */
export function lintSingleGateway(config: BulwarkConfig): Finding[] {
  const hosts = config.gateway.hosts?.length ?? 1;
  if (hosts > 1) return [];
  return gatewayFronted(config).flatMap((service) => {
    const tierName = config.services[service]!.tier;
    const tier = tierName === undefined ? undefined : config.sla_tiers[tierName];
    // Percentages parse to binary fractions: 99.9% may come out a hair above 0.999.
    if (!tier || tier.availability <= SINGLE_GATEWAY_LIMIT + 1e-9) return [];
    return [{
      severity: 'warning' as const, rule: 'lint.single_gateway', path: ['services', service, 'listen'],
      message: `one gateway fronts ${service} (tier ${tierName}, ${(tier.availability * 100).toFixed(3).replace(/\.?0+$/, '')}%): ` +
        'every request passes that one process on one host, so its outages are the service\'s',
      found: `${hosts} gateway host`, expected: 'two or more gateway hosts',
      hint: 'run bulwark up on two or more hosts, list them in gateway.hosts and give them a gateway.vip (keepalived), or DNS with a short TTL in front of them',
    }];
  });
}
