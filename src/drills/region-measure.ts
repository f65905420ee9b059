import { fmt, graded } from './grade.js';
import type { RegionPlan } from './region-plan.js';
import type { RegionMeasurement } from './region-types.js';
import type { FailoverMeasurement, PolicyMeasurement } from './types.js';
import type { ZoneMeasurement } from './zone-types.js';

export interface RegionParts {
  services: ZoneMeasurement[];
  failover?: FailoverMeasurement;
  policies: PolicyMeasurement[];
  failback: RegionMeasurement['failback'];
  problems: string[];
  faultAt?: number;
}

/**
 * End to end, from the region's fault: the later of "every service served
 * from the DR region" and "the database writable there" (first write after a
 * failover; fetch + restore + start + validate for the fallback).
 */
export function regionMeasurement(plan: RegionPlan, p: RegionParts): RegionMeasurement {
  const db = plan.database;
  const m: RegionMeasurement = {
    region: plan.region, drRegion: plan.drRegion, services: p.services, database: db?.name, databaseRecovery: db?.recovery ?? 'none',
    phasesMs: {}, failback: p.failback, problems: [...p.problems], passed: false,
  };
  const served = p.services.map((s) => s.failover?.measuredMs);
  if (served.length > 0 && served.every((ms) => ms !== undefined)) m.phasesMs.traffic = Math.max(...(served as number[]));
  const dbMs = databasePhases(m, plan, p);
  const parts = [m.phasesMs.traffic, dbMs];
  const complete = (p.services.length === 0 || m.phasesMs.traffic !== undefined) && (db === undefined || dbMs !== undefined);
  if (p.faultAt !== undefined && complete) m.rto = graded(Math.max(...parts.filter((x): x is number => x !== undefined)), plan.target.rtoMs);
  for (const s of p.services) m.problems.push(...s.problems.map((x) => `service ${s.service}: ${x}`));
  if (p.faultAt !== undefined && !complete) m.problems.push(`the region's services and database were not all back in ${plan.drRegion}: end-to-end RTO not measured`);
  if (m.rto?.passed === false) m.problems.push(`end-to-end RTO ${fmt(m.rto.measuredMs)} missed the target ${fmt(m.rto.targetMs!)}`);
  if (m.rpo?.passed === false) m.problems.push(`RPO ${fmt(m.rpo.measuredMs)} missed the target ${fmt(m.rpo.targetMs!)}`);
  if (p.faultAt !== undefined && p.services.length > 0 && !p.failback.services) m.problems.push('not every service served again from its region after failback');
  m.passed = p.faultAt !== undefined && m.problems.length === 0 && p.services.every((s) => s.passed)
    && (p.failover?.passed ?? true) && p.policies.every((x) => x.passed) && m.rto?.passed !== false && m.rpo?.passed !== false;
  return m;
}

/** Fills the database's phases, RPO and problems; returns fault → the database writable in the DR region. */
function databasePhases(m: RegionMeasurement, plan: RegionPlan, p: RegionParts): number | undefined {
  const f = p.failover;
  if (f) {
    m.phasesMs.detection = f.phasesMs.detection;
    m.phasesMs.promotion = f.phasesMs.promotion;
    m.phasesMs.firstWrite = f.phasesMs.firstWrite;
    m.lostWrites = f.lost;
    if (f.rpo) m.rpo = graded(f.rpo.measuredMs, plan.target.rpoMs);
    if (f.to !== undefined) {
      m.promoted = { member: f.to, region: memberRegion(plan, f.to) };
      if (plan.database?.inDr.includes(f.to) === false) m.problems.push(`database ${f.database}: ${f.to} was promoted, which is not in the DR region ${plan.drRegion}: losing region ${plan.region} would take it too`);
    }
    m.problems.push(...f.problems.map((x) => `database ${f.database}: ${x}`));
    return f.rto?.measuredMs;
  }
  const restored = p.policies[0];
  if (!restored) return undefined;
  m.phasesMs.restore = restored.rto?.measuredMs;
  if (restored.rpo) m.rpo = graded(restored.rpo.measuredMs, plan.target.rpoMs);
  m.problems.push(...p.policies.flatMap((x) => x.problems.map((y) => `restore of ${x.policy}: ${y}`)));
  return restored.rto?.measuredMs;
}

function memberRegion(plan: RegionPlan, member: string): string | undefined {
  const db = plan.database;
  if (!db) return undefined;
  return db.inDr.includes(member) ? plan.drRegion : db.inRegion.includes(member) ? plan.region : undefined;
}
