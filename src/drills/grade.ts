import type { BulwarkConfig, DrillConfig } from '../config/index.js';
import { formatDurationShort } from '../core/units.js';
import type { DrillTarget, Graded, PolicyMeasurement } from './types.js';

export function graded(measuredMs: number, targetMs: number | undefined): Graded {
  if (targetMs === undefined) return { measuredMs };
  return { measuredMs, targetMs, passed: measuredMs <= targetMs, marginMs: targetMs - measuredMs };
}

/**
 * The tier a drill answers to: its own `tier:`, else the tier of the database
 * its policy backs up (the strictest when it restores several).
 */
export function drillTarget(config: BulwarkConfig, drill: DrillConfig, policies: readonly string[]): DrillTarget {
  const names = drill.tier !== undefined ? [drill.tier] : policies.flatMap((p) => {
    const db = config.backups?.policies[p]?.source.postgres;
    const tier = db === undefined ? undefined : config.databases[db]?.tier;
    return tier === undefined ? [] : [tier];
  });
  let best: DrillTarget = {};
  for (const name of names) {
    const tier = config.sla_tiers[name];
    if (tier && (best.rtoMs === undefined || tier.rto < best.rtoMs)) best = { tier: name, rtoMs: tier.rto, rpoMs: tier.rpo };
  }
  return best;
}

/** What the report recommends, from what the drill measured. */
export function recommendations(target: DrillTarget, policies: readonly PolicyMeasurement[]): string[] {
  const out: string[] = [];
  if (target.tier === undefined) out.push('give the drill a tier (tier: NAME under its dr_testing entry) so that its RTO and RPO are graded');
  for (const p of policies) {
    if (p.rto?.passed === false) {
      out.push(`${p.policy}: restoring took ${fmt(p.rto.measuredMs)} against an RTO of ${fmt(p.rto.targetMs!)}: ` +
        (p.source === 'postgres' ? 'take base backups more often (less WAL to replay), or keep a standby for this tier' : 'restore from a repository nearer the servers, or keep a warm copy for this tier'));
    }
    if (p.rpo?.passed === false) {
      out.push(`${p.policy}: the newest restorable point was ${fmt(p.rpo.measuredMs)} old against an RPO of ${fmt(p.rpo.targetMs!)}: ` +
        (p.source === 'postgres' ? 'check that WAL archiving runs (bulwark backup wal status)' : `schedule the policy at least every ${fmt(p.rpo.targetMs!)}`));
    }
    if (p.problems.length > 0) out.push(`${p.policy}: the restore is not whole (${p.problems.length} problem(s)): run bulwark backup check --read-data on its repository and take a new backup`);
  }
  return out;
}

export function fmt(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : formatDurationShort(Math.round(ms / 1000) * 1000);
}
