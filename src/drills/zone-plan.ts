import type { BulwarkConfig, DrillConfig } from '../config/index.js';
import { BulwarkError } from '../core/errors.js';
import { endpointName } from '../core/names.js';
import { splitListen } from '../core/net.js';
import type { StopConditionSpec } from './stop-condition.js';
import type { DrillTarget } from './types.js';

export interface ZoneEndpoint { name: string; url: string; port: number }

/** A zone drill's configuration, resolved and checked against the topology. */
export interface ZonePlan {
  service: string;
  zone: string;
  method: 'kill' | 'stop' | 'disable';
  restart: 'respawn' | 'supervisor';
  out: ZoneEndpoint[];
  remaining: ZoneEndpoint[];
  trafficUrl: string;
  ratePerSecond: number;
  requestTimeoutMs: number;
  faultMs: number;
  maxFailed: number;
  stop?: StopConditionSpec;
  target: DrillTarget;
}

export const DEFAULT_FAULT_MS = 10_000;

export function zonePlan(config: BulwarkConfig, drill: DrillConfig, drillName: string): ZonePlan {
  const where = `dr_testing.${drillName}`;
  const serviceName = drill.service;
  const zone = drill.zone;
  if (serviceName === undefined || zone === undefined) throw new BulwarkError('CONFIG_INVALID', `${where}: a zone drill needs service: and zone:`, { hint: 'for example { type: zone, service: api, zone: us-east-1a }' });
  return servicePlan(config, drill, where, serviceName, { label: zone, what: `zone ${zone}`, isOut: (z) => z === zone });
}

/** Which endpoints of a service go out: a zone's, or (region drills) those of every zone of a region. */
export interface OutSelection { label: string; what: string; isOut: (zone: string | undefined) => boolean }

/** A service's endpoints split into those taken out and the rest, with the traffic, bounds and tier to grade. */
export function servicePlan(config: BulwarkConfig, drill: DrillConfig, where: string, serviceName: string, sel: OutSelection): ZonePlan {
  const service = config.services[serviceName];
  if (!service) throw new BulwarkError('CONFIG_INVALID', `${where}.service: no service "${serviceName}"`, { hint: `known: ${Object.keys(config.services).join(', ') || 'none'}` });
  const all = service.endpoints.map((e, i) => ({ name: endpointName(e, i), url: e.url, port: portOf(e.url), zone: e.zone }));
  const out = all.filter((e) => sel.isOut(e.zone)).map(({ zone: _, ...e }) => e);
  const remaining = all.filter((e) => !sel.isOut(e.zone)).map(({ zone: _, ...e }) => e);
  if (out.length === 0) throw new BulwarkError('CONFIG_INVALID', `${where}: service ${serviceName} has no endpoint in ${sel.what}`, { hint: `its zones: ${[...new Set(all.map((e) => e.zone ?? '(none)'))].join(', ')}` });
  if (remaining.length === 0) throw new BulwarkError('CONFIG_INVALID', `${where}: every endpoint of service ${serviceName} is in ${sel.what}, so taking it out is an outage, not a drill`, { hint: 'add endpoints elsewhere first' });
  const traffic = drill.traffic;
  const trafficUrl = traffic?.url ?? gatewayUrl(service.listen, traffic?.path ?? '/', where, serviceName);
  const tierName = drill.tier ?? service.tier;
  const tier = tierName === undefined ? undefined : config.sla_tiers[tierName];
  const stop = drill.stop_condition;
  return {
    service: serviceName, zone: sel.label, method: drill.method ?? 'kill', restart: drill.restart ?? 'respawn', out, remaining, trafficUrl,
    ratePerSecond: traffic?.rate ?? 20, requestTimeoutMs: traffic?.timeout ?? 2_000, faultMs: drill.fault_duration ?? DEFAULT_FAULT_MS,
    maxFailed: drill.max_failed_requests ?? 0,
    stop: stop && { errorRate: stop.error_rate, burnRate: stop.burn_rate, windowMs: stop.window, minRequests: stop.min_requests, availability: tier?.availability },
    target: tier ? { tier: tierName, rtoMs: tier.rto, rpoMs: tier.rpo } : {},
  };
}

function portOf(url: string): number {
  const u = new URL(url);
  return u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
}

export function gatewayUrl(listen: string | undefined, path: string, where: string, service: string): string {
  if (listen === undefined) throw new BulwarkError('CONFIG_INVALID', `${where}: service ${service} has no listen address, so there is no gateway to send traffic through`, { hint: `give the service listen:, or the drill traffic: { url: ... }` });
  const { host, port } = splitListen(listen);
  const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `http://${reachable}:${port}${path}`;
}

/** `--dry-run` of a zone drill: the steps and what each would touch. */
export function planZone(config: BulwarkConfig, drill: DrillConfig, name: string, drillsDir: string): Array<{ step: string; touches: string }> {
  const p = zonePlan(config, drill, name);
  const how = p.method === 'kill' ? `SIGKILL the process listening on each port, then ${p.restart === 'respawn' ? 'start its command line again' : 'leave the restart to its supervisor'}`
    : p.method === 'stop' ? 'SIGSTOP the process listening on each port, SIGCONT at failback' : 'disable each in the gateway, enable at failback';
  return [
    { step: 'lock', touches: `${drillsDir}/lock (one drill at a time)` },
    { step: 'recover', touches: `${drillsDir}/journal.json: revert and record as aborted whatever a crashed drill left` },
    { step: 'steady', touches: `GET ${p.trafficUrl} at ${p.ratePerSecond}/s (timeout ${p.requestTimeoutMs} ms) until ${5} answers in a row` },
    { step: 'fault', touches: `zone ${p.zone} of ${p.service}: ${p.out.map((e) => `${e.name} (${e.url})`).join(', ')}: ${how} (journalled first)` },
    { step: 'failover', touches: `until ${p.remaining.map((e) => e.name).join(', ')} serve; the zone stays out ${p.faultMs} ms` },
    { step: 'failback', touches: `revert every fault; until each endpoint of ${p.zone} answers directly` },
    ...(p.stop ? [{ step: 'stop', touches: `abort and revert when ${p.stop.errorRate !== undefined ? `the error rate passes ${p.stop.errorRate * 100}%` : `the burn rate passes ${p.stop.burnRate}`} over ${p.stop.windowMs} ms` }] : []),
    { step: 'grade', touches: `failed requests against at most ${p.maxFailed}; failover ${p.target.rtoMs !== undefined ? `against tier ${p.target.tier}'s RTO` : 'measured only (no tier)'}; recorded in drill_runs` },
  ];
}
