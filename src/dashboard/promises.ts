import { toTopology, type BulwarkConfig } from '../config/index.js';
import { planTopology, type ComponentPlan, type PlanReport } from '../plan/index.js';
import type { OwnerSlo } from '../slo/index.js';
import type { BackupAdmin } from '../api/index.js';

type Policy = ReturnType<BackupAdmin['status']>[number];
type Wal = Awaited<ReturnType<BackupAdmin['walArchive']>>[number];

/** One promise against its evidence: `ok` null when there is no evidence yet. */
export interface Check {
  target: string;
  evidence: string;
  ok: boolean | null;
  reason?: string;
  /** The promise does not apply (a service keeps no state to back up). */
  na?: true;
}

export interface OwnerPromises {
  kind: 'service' | 'database';
  name: string;
  tier: string | null;
  availability: Check;
  rto: Check;
  rpo: Check;
}

export function planOf(config: BulwarkConfig): PlanReport {
  return planTopology(toTopology(config));
}

/** Every service and database with its availability, RTO and RPO promises beside what was measured or modelled. */
export function ownerPromises(slo: readonly OwnerSlo[], plan: PlanReport, policies: readonly Policy[], wal: readonly Wal[]): OwnerPromises[] {
  return slo.map((owner) => {
    const component = plan.components.find((c) => c.kind === owner.kind && c.name === owner.name);
    return {
      kind: owner.kind, name: owner.name, tier: owner.tier,
      availability: availabilityCheck(owner),
      rto: rtoCheck(component),
      rpo: rpoCheck(owner, component, policies, wal),
    };
  });
}

function availabilityCheck(owner: OwnerSlo): Check {
  const measured = owner.windows?.['30d']?.availability ?? null;
  const target = owner.target;
  const evidence = measured === null ? 'not measured yet' : `${pct(measured)} (30 d)`;
  if (target === null) return { target: 'none', evidence, ok: null };
  if (measured === null) return { target: pct(target), evidence, ok: null };
  const ok = measured >= target;
  return { target: pct(target), evidence, ok, ...(ok ? {} : { reason: `measured ${pct(measured)} is below the ${pct(target)} promised` }) };
}

function rtoCheck(component: ComponentPlan | undefined): Check {
  const r = component?.recovery;
  const target = r?.rtoMs ?? null;
  const modelled = r?.estimatedRecoveryMs ?? null;
  const evidence = modelled === null ? 'not modelled' : `${short(modelled)} modelled`;
  if (target === null) return { target: 'none', evidence, ok: null };
  if (modelled === null || r?.meetsRto === null || r?.meetsRto === undefined) return { target: short(target), evidence, ok: null };
  return { target: short(target), evidence, ok: r.meetsRto, ...(r.meetsRto ? {} : { reason: `detection and failover take ${short(modelled)}, longer than the ${short(target)} RTO` }) };
}

function rpoCheck(owner: OwnerSlo, component: ComponentPlan | undefined, policies: readonly Policy[], wal: readonly Wal[]): Check {
  const rpoMs = component?.target?.rpoMs ?? null;
  const mine = policies.filter((p) => p.source.kind === owner.kind.replace('database', 'postgres') && p.source.name === owner.name);
  const target = rpoMs === null ? 'none' : short(rpoMs);
  if (owner.kind === 'service' && mine.length === 0) return { target, evidence: 'no state to back up', ok: null, na: true };
  if (mine.length === 0) return { target, evidence: 'no backup policy', ok: rpoMs === null ? null : false, ...(rpoMs === null ? {} : { reason: 'no backup policy covers it' }) };
  const ages = mine.map((p) => p.age_ms);
  const newest = ages.some((a) => a === null) && ages.every((a) => a === null) ? null : Math.min(...ages.filter((a): a is number => a !== null));
  const lags = wal.filter((w) => mine.some((p) => p.policy === w.policy) && w.lagSeconds !== null).map((w) => (w.lagSeconds ?? 0) * 1000);
  const lag = lags.length > 0 ? Math.max(...lags) : null;
  const evidence = `${newest === null ? 'no successful backup' : `last backup ${short(newest)} ago`}${lag === null ? '' : `, WAL lag ${short(lag)}`}`;
  if (rpoMs === null) return { target, evidence, ok: null };
  const failing = wal.find((w) => mine.some((p) => p.policy === w.policy) && w.failing);
  const reasons = [
    ...(newest === null ? ['no backup has succeeded'] : newest > rpoMs && lag === null ? [`the last backup is ${short(newest)} old, past the ${short(rpoMs)} RPO`] : []),
    ...(lag !== null && lag > rpoMs ? [`WAL archiving lags ${short(lag)}, past the ${short(rpoMs)} RPO`] : []),
    ...(failing ? [`WAL archiving is failing: ${failing.lastError ?? 'see the daemon log'}`] : []),
  ];
  return { target, evidence, ok: reasons.length === 0, ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}) };
}

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(3).replace(/\.?0+$/, '')}%`;
}

export function short(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}
