/**
 * A region drill's configuration resolved against the topology: the regions,
 * one service plan per service with endpoints in the region, and how its
 * database comes back in the DR region (a failover to a member there, else a
 * restore of its latest backup into a sandbox).
 */
import type { BulwarkConfig, DrillConfig } from '../config/index.js';
import { BulwarkError } from '../core/errors.js';
import { restorationPolicies } from './backup-restoration.js';
import { failoverDatabase } from './plan-failover.js';
import type { DrillTarget } from './types.js';
import { DEFAULT_FAULT_MS, servicePlan, type ZonePlan } from './zone-plan.js';

/** The drill types that run the region drill: seed 000's annual exercise and its plain name. */
const REGION_TYPES: ReadonlySet<string> = new Set(['full_dr_exercise']);

export function isRegionDrill(type: string): boolean {
  return REGION_TYPES.has(type);
}

export interface RegionDatabase {
  name: string;
  /** Members in the region taken out, and in the DR region. */
  inRegion: string[];
  inDr: string[];
  /** failover: a member in the DR region is promoted; restore: none is, so the latest backup is restored into a sandbox. */
  recovery: 'failover' | 'restore';
  mode: 'switchover' | 'kill';
  /** The switchover's target (a member in the DR region). */
  to?: string;
  /** The policies restored when recovery is restore. */
  policies: string[];
}

export interface RegionPlan {
  region: string;
  drRegion: string;
  services: ZonePlan[];
  database?: RegionDatabase;
  faultMs: number;
  target: DrillTarget;
}

export function regionOf(config: BulwarkConfig, zone: string | undefined): string | undefined {
  return zone === undefined ? undefined : config.zones[zone]?.region;
}

export function regionPlan(config: BulwarkConfig, drill: DrillConfig, drillName: string): RegionPlan {
  const where = `dr_testing.${drillName}`;
  const region = drill.region;
  const regions = knownRegions(config);
  if (region === undefined) throw new BulwarkError('CONFIG_INVALID', `${where}: a full_dr_exercise drill needs region: (the primary region to take out)`, { hint: `regions of the zones: ${regions.join(', ') || 'none (declare zones: { NAME: { region: R } })'}` });
  if (!regions.includes(region)) throw new BulwarkError('CONFIG_INVALID', `${where}.region: no zone is in region "${region}"`, { hint: `regions of the zones: ${regions.join(', ') || 'none'}` });
  const drRegion = drill.dr_region ?? onlyOtherRegion(config, region, where);
  if (drRegion === region) throw new BulwarkError('CONFIG_INVALID', `${where}.dr_region: the DR region must differ from region ${region}`);
  const services = Object.entries(config.services)
    .filter(([, s]) => s.endpoints.some((e) => regionOf(config, e.zone) === region))
    .map(([name, s]) => {
      if (!s.endpoints.some((e) => regionOf(config, e.zone) === drRegion)) {
        throw new BulwarkError('CONFIG_INVALID', `${where}: service ${name} has no endpoint in the DR region ${drRegion}, so nothing would serve it after region ${region} is lost`, { hint: `add an endpoint in a zone of ${drRegion} (backup: true is enough)` });
      }
      return servicePlan(config, drill, where, name, { label: region, what: `region ${region}`, isOut: (z) => regionOf(config, z) === region });
    });
  const database = regionDatabase(config, drill, where, region, drRegion);
  if (services.length === 0 && !database) throw new BulwarkError('CONFIG_INVALID', `${where}: region ${region} has no service endpoint and no database member to take out`, { hint: 'give endpoints and members zone: NAME with that zone in the region' });
  return { region, drRegion, services, database, faultMs: drill.fault_duration ?? DEFAULT_FAULT_MS, target: regionTarget(config, drill, services, database) };
}

function knownRegions(config: BulwarkConfig): string[] {
  return [...new Set(Object.values(config.zones).map((z) => z.region))];
}

function onlyOtherRegion(config: BulwarkConfig, region: string, where: string): string {
  const used = new Set<string>();
  for (const s of Object.values(config.services)) for (const e of s.endpoints) used.add(regionOf(config, e.zone) ?? '');
  for (const d of Object.values(config.databases)) for (const m of d.postgres?.members ?? []) used.add(regionOf(config, m.zone) ?? '');
  const others = [...used].filter((r) => r !== '' && r !== region);
  if (others.length === 1) return others[0]!;
  throw new BulwarkError('CONFIG_INVALID', others.length === 0 ? `${where}: nothing runs outside region ${region}, so there is no DR region to fail over to` : `${where}: several regions could take over from ${region} (${others.join(', ')})`, {
    hint: others.length === 0 ? 'add endpoints and a database member in a zone of another region' : `name one: dr_region: ${others[0]}`,
  });
}

/** The PostgreSQL database with a member in the region: `database:`, else the only one. */
function regionDatabase(config: BulwarkConfig, drill: DrillConfig, where: string, region: string, drRegion: string): RegionDatabase | undefined {
  const inRegion = (name: string) => (config.databases[name]?.postgres?.members ?? []).filter((m) => regionOf(config, m.zone) === region).map((m) => m.name);
  let name = drill.database;
  if (name === undefined) {
    const candidates = Object.keys(config.databases).filter((n) => config.databases[n]!.postgres && inRegion(n).length > 0);
    if (candidates.length === 0) return undefined;
    if (candidates.length > 1) throw new BulwarkError('CONFIG_INVALID', `${where}: several PostgreSQL databases have members in region ${region} (${candidates.join(', ')})`, { hint: `name one: database: ${candidates[0]}` });
    name = candidates[0]!;
  }
  failoverDatabase(config, name);
  const members = config.databases[name]!.postgres!.members;
  const inDr = members.filter((m) => regionOf(config, m.zone) === drRegion).map((m) => m.name);
  const mode = drill.mode ?? 'switchover';
  if (drill.to !== undefined && !inDr.includes(drill.to)) throw new BulwarkError('CONFIG_INVALID', `${where}.to: ${drill.to} is not a member of ${name} in the DR region ${drRegion}`, { hint: `members there: ${inDr.join(', ') || 'none'}` });
  if (inDr.length > 0) return { name, inRegion: inRegion(name), inDr, recovery: 'failover', mode, to: mode === 'switchover' ? drill.to ?? inDr[0] : undefined, policies: [] };
  const policies = Object.entries(config.backups?.policies ?? {}).filter(([, p]) => p.source.postgres === name).map(([n]) => n);
  if (drill.policy !== undefined && !policies.includes(drill.policy)) throw new BulwarkError('CONFIG_INVALID', `${where}.policy: ${drill.policy} does not back up database ${name}`, { hint: `its policies: ${policies.join(', ') || 'none'}` });
  return { name, inRegion: inRegion(name), inDr, recovery: 'restore', mode, policies: drill.policy !== undefined ? restorationPolicies(config, drill) : policies.slice(0, 1) };
}

/** The drill's `tier:`, else the strictest tier among the services and the database it takes out. */
function regionTarget(config: BulwarkConfig, drill: DrillConfig, services: readonly ZonePlan[], database: RegionDatabase | undefined): DrillTarget {
  const names = drill.tier !== undefined ? [drill.tier] : [
    ...services.map((s) => config.services[s.service]?.tier),
    database ? config.databases[database.name]?.tier : undefined,
  ].filter((t): t is string => t !== undefined);
  let best: DrillTarget = {};
  for (const name of names) {
    const tier = config.sla_tiers[name];
    if (tier && (best.rtoMs === undefined || tier.rto < best.rtoMs)) best = { tier: name, rtoMs: tier.rto, rpoMs: tier.rpo };
  }
  return best;
}
