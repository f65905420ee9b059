import { databaseHealthCheck, endpointName, serviceHealthCheck, type BulwarkConfig, type DatabaseConfig, type ServiceConfig } from '../config/index.js';
import type { CheckSpecs } from './checks/registry.js';
import { parseCondition, type Condition } from '../conditions/index.js';

/** One thing Bulwark probes: an endpoint of a service, or a member of a database. */
export interface ProbeTarget {
  /** Stable across reloads: "service/api/10.0.1.10:8080", "database/main-db/pg-a". */
  id: string;
  owner: { kind: 'service' | 'database'; name: string };
  member: string;
  zone?: string;
  backup: boolean;
  check: CheckSpec;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  graceMs: number;
  /** Fraction of the interval over which first runs are spread. */
  jitter: number;
  /** Vantage points that must agree before the target is down. */
  quorum: number;
}

export type CheckSpec = { [K in keyof CheckSpecs]: { type: K; spec: CheckSpecs[K] } }[keyof CheckSpecs];

const DEFAULT_JITTER = 1;

export function targetsFromConfig(config: BulwarkConfig): ProbeTarget[] {
  const targets: ProbeTarget[] = [];
  for (const [name, service] of Object.entries(config.services)) targets.push(...serviceTargets(name, service));
  for (const [name, database] of Object.entries(config.databases)) targets.push(...databaseTargets(name, database));
  return targets;
}

function serviceTargets(name: string, service: ServiceConfig): ProbeTarget[] {
  const hc = serviceHealthCheck(service);
  return service.endpoints.map((endpoint, index) => {
    const member = endpointName(endpoint, index);
    return {
      id: `service/${name}/${member}`,
      owner: { kind: 'service', name },
      member,
      zone: endpoint.zone,
      backup: endpoint.backup,
      check: serviceCheck(service, endpoint.url),
      intervalMs: hc.interval,
      timeoutMs: hc.timeout,
      rise: hc.rise,
      fall: hc.fall,
      graceMs: hc.grace_period,
      jitter: hc.jitter ?? DEFAULT_JITTER,
      quorum: hc.quorum,
    };
  });
}

function serviceCheck(service: ServiceConfig, url: string): CheckSpec {
  const hc = serviceHealthCheck(service);
  const type = hc.type ?? (service.protocol === 'tcp' ? 'tcp' : 'http');
  if (type === 'command' && hc.command) return { type: 'command', spec: { command: hc.command, conditions: parsedConditions(hc.conditions) } };
  const address = hostPort(url);
  if (type === 'tcp' || type === 'command') return { type: 'tcp', spec: address };
  const base = url.includes('://') ? url : `http://${url}`;
  return {
    type: 'http',
    spec: {
      url: new URL(hc.path, base).toString(),
      method: hc.method,
      headers: hc.headers,
      body: hc.body,
      conditions: parsedConditions(hc.conditions),
      maxBodyBytes: hc.max_body_size,
      tlsSkipVerify: hc.tls_skip_verify,
    },
  };
}

function databaseTargets(name: string, database: DatabaseConfig): ProbeTarget[] {
  const hc = databaseHealthCheck(database);
  const base = {
    intervalMs: hc.interval,
    timeoutMs: hc.timeout,
    rise: hc.rise,
    fall: hc.fall,
    graceMs: 0,
    jitter: DEFAULT_JITTER,
    quorum: hc.quorum,
    backup: false,
  };
  if (database.postgres) {
    const pg = database.postgres;
    return pg.members.map((m) => ({
      ...base,
      id: `database/${name}/${m.name}`,
      owner: { kind: 'database' as const, name },
      member: m.name,
      zone: m.zone,
      check: { type: 'postgres' as const, spec: { host: m.host, port: m.port, user: pg.superuser, password: pg.superuser_password, maxLagBytes: hc.max_lag } },
    }));
  }
  const redis = database.redis;
  return (redis?.members ?? []).map((m) => ({
    ...base,
    id: `database/${name}/${m.name}`,
    owner: { kind: 'database' as const, name },
    member: m.name,
    zone: m.zone,
    check: { type: 'redis' as const, spec: { host: m.host, port: m.port, password: redis?.password } },
  }));
}

/** Conditions were validated with the configuration; parsing again here cannot fail. */
function parsedConditions(texts: readonly string[]): Condition[] {
  return texts.flatMap((text) => {
    const parsed = parseCondition(text);
    return parsed.ok ? [parsed.condition] : [];
  });
}

export function hostPort(url: string): { host: string; port: number } {
  const parsed = new URL(url.includes('://') ? url : `tcp://${url}`);
  const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port };
}


/** A fingerprint of what a target checks and how: a reload replaces only targets whose fingerprint changed. */
export function targetFingerprint(target: ProbeTarget): string {
  return JSON.stringify([target.check, target.intervalMs, target.timeoutMs, target.rise, target.fall, target.graceMs, target.quorum]);
}
