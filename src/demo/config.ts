import type { RunningDemoServer } from './servers.js';

export interface DemoConfigInput {
  gatewayPort: number;
  apiPort: number;
  /** The public status page's port; without it the demo has none. */
  statusPort?: number;
  servers: readonly RunningDemoServer[];
}

/** The service every demo request goes through. */
export const DEMO_SERVICE = 'api';

/** The zone-failure drill of the demo topology (`bulwark demo --zone-drill`). */
export const DEMO_ZONE_DRILL = 'zone-loss';

/**
 * The demo's bulwark.yaml: one service behind the gateway, three zones of one
 * region and a backup in another, fast health checks (1 s, fall 2, rise 2) so a
 * failure shows within seconds, retries and outlier detection so users see none.
 */
export function demoConfigYaml(input: DemoConfigInput): string {
  const zones = [...new Map(input.servers.map((s) => [s.zone, s.region])).entries()];
  const regions = [...new Set(zones.map(([, region]) => region))];
  const primaryZones = input.servers.filter((s) => !s.backup).map((s) => s.zone);
  const endpoints = input.servers.map((s) =>
    `      - { name: ${s.name}, url: "${s.url}", zone: ${s.zone}${s.backup ? ', backup: true' : ''} }`);
  return `# Written by \`bulwark demo\`: every server below runs on this machine (loopback only).
# Edit it while the demo runs: the daemon reloads it on change.
version: 1
name: bulwark-demo

api:
  listen: 127.0.0.1:${input.apiPort}

sla_tiers:
  demo: { availability: 99.9%, rto: 5m, rpo: 1h, description: The demo's promise }

regions:
${regions.map((r) => `  ${r}: {}`).join('\n')}

zones:
${zones.map(([zone, region]) => `  ${zone}: { region: ${region} }`).join('\n')}

services:
  ${DEMO_SERVICE}:
    tier: demo
    description: Demo API, three zones and a backup region
    listen: 127.0.0.1:${input.gatewayPort}
    endpoints:
${endpoints.join('\n')}
    health_check: { path: /health, interval: 1s, timeout: 500ms, fall: 2, rise: 2 }
    load_balancing: { algorithm: round_robin }
    failover: { primary_zones: [${primaryZones.join(', ')}], failback: true }
    retries: { attempts: 2, per_try_timeout: 1s, retry_on: [5xx, connect-failure, reset, gateway-error] }
    outlier_detection: { consecutive_errors: 3, base_ejection_time: 10s, max_ejection_percent: 50% }
    timeout: 5s
    connect_timeout: 1s

dr_testing:
  # \`bulwark demo --zone-drill\` runs it at once: the first zone's server SIGSTOPped for 5 s under traffic.
  ${DEMO_ZONE_DRILL}:
    type: zone
    frequency: annually
    service: ${DEMO_SERVICE}
    zone: ${primaryZones[0] ?? zones[0]?.[0]}
    method: stop
    fault_duration: 5s
    traffic: { rate: 20, timeout: 5s }
${input.statusPort === undefined ? '' : `
status_page:
  title: Bulwark demo status
  description: The demo's public status page, from the same probes and incidents the operators see
  listen: 127.0.0.1:${input.statusPort}
`}`;
}
