import { SENTINEL_ELECTION_AND_PROMOTION_MS } from './schema-redis.js';
import { hostOfUrl, type Component, type Member, type Topology } from '../plan/index.js';
import { endpointName } from '../core/names.js';
import { gatewayComponent, gatewayComponentName, gatewayFronted } from './topology-gateway.js';
import { serviceHealthCheck, type BulwarkConfig, type DatabaseConfig, type ServiceConfig } from './schema.js';

/**
 * The configuration as the planner sees it. `plan` owns the `Topology` type
 * and never reads bulwark.yaml; this adapter is the one place that maps a
 * parsed configuration onto it (config imports plan, never the reverse).
 */

/**
 * Time from "the leader lease expired" to "a replica accepts writes": pg_ctl
 * promote plus the checkpoint, measured in seconds on small clusters. An
 * estimate until drills measure the real figure.
 */
export const PROMOTION_ESTIMATE_MS = 2_000;

/** The planner's model of a configuration: failure domains, components and their members. */
export function toTopology(config: BulwarkConfig): Topology {
  const defaults = config.availability_defaults;
  const regions: Topology['regions'] = {};
  for (const [name, region] of Object.entries(config.regions)) regions[name] = { availability: region.availability ?? defaults.region };
  const zones: Topology['zones'] = {};
  for (const [name, zone] of Object.entries(config.zones)) {
    zones[name] = { region: zone.region, availability: zone.availability ?? defaults.zone };
    regions[zone.region] ??= { availability: defaults.region };
  }
  const components: Record<string, Component> = {};
  for (const [name, service] of Object.entries(config.services)) components[name] = serviceComponent(service, defaults.endpoint);
  for (const [name, database] of Object.entries(config.databases)) components[name] = databaseComponent(database, defaults.endpoint);
  const gateway = gatewayComponent(config, defaults.endpoint);
  if (gateway) {
    const gatewayName = gatewayComponentName(config);
    components[gatewayName] = gateway;
    // Every request to a fronted service passes the gateway: it is in series with the service.
    for (const service of gatewayFronted(config)) components[service]!.dependsOn = [...components[service]!.dependsOn, gatewayName];
  }
  const tiers: Topology['tiers'] = {};
  for (const [name, tier] of Object.entries(config.sla_tiers)) tiers[name] = { availability: tier.availability, rtoMs: tier.rto, rpoMs: tier.rpo };
  return { tiers, regions, zones, components };
}

/** The timings of a service's health check that decide how soon a dead endpoint is noticed. */
export function serviceCheckTimings(service: ServiceConfig): { interval: number; timeout: number; fall: number } {
  return serviceHealthCheck(service);
}

/** A dead endpoint is noticed after `fall` failed checks, the last of which may take the whole timeout. */
export function serviceDetectionMs(service: ServiceConfig): number {
  const check = serviceCheckTimings(service);
  return check.interval * check.fall + check.timeout;
}

function serviceComponent(service: ServiceConfig, endpointDefault: number): Component {
  const members: Member[] = service.endpoints.map((endpoint, index) => ({
    name: endpointName(endpoint, index),
    zone: endpoint.zone,
    host: hostOfUrl(endpoint.url),
    availability: endpoint.availability ?? endpointDefault,
    backup: endpoint.backup,
  }));
  return {
    kind: 'service',
    tier: service.tier,
    members,
    dependsOn: service.depends_on,
    detectionMs: serviceDetectionMs(service),
    failoverMs: 0,
  };
}

function databaseComponent(database: DatabaseConfig, endpointDefault: number): Component {
  const cluster = database.postgres ?? database.redis;
  const members: Member[] = (cluster?.members ?? []).map((member) => ({
    name: member.name,
    zone: member.zone,
    host: member.host,
    availability: member.availability ?? endpointDefault,
    backup: false,
  }));
  const component: Component = { kind: 'database', tier: database.tier, members, dependsOn: [] };
  if (database.postgres && members.length > 1) {
    // The lease must expire, then the next loop of a replica notices and promotes.
    component.detectionMs = database.postgres.ttl + database.postgres.loop_wait;
    component.failoverMs = PROMOTION_ESTIMATE_MS;
  }
  const sentinel = database.redis?.sentinel;
  if (sentinel && members.length > 1) {
    // Sentinel's timings: down-after, then the ODOWN agreement, election and promotion (schema-redis.ts).
    component.detectionMs = sentinel.down_after;
    component.failoverMs = SENTINEL_ELECTION_AND_PROMOTION_MS;
  }
  return component;
}
