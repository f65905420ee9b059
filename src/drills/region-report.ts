import { fmt } from './grade.js';
import type { RegionMeasurement } from './region-types.js';
import { failoverTable } from './report-failover.js';
import type { DrillTarget, FailoverMeasurement, Graded } from './types.js';
import { zoneRecommendations } from './zone-report.js';

/** The region drill's measurements against its targets, as Markdown lines; the database failover's own table follows. */
export function regionTable(r: RegionMeasurement, failover: FailoverMeasurement | undefined): string[] {
  const ph = r.phasesMs;
  const dbLine = r.databaseRecovery === 'failover' ? `database ${r.database} failed over to ${r.promoted?.member ?? '?'} (region ${r.promoted?.region ?? 'unknown'})`
    : r.databaseRecovery === 'restore' ? `database ${r.database} restored from its latest backup into a sandbox (no member in ${r.drRegion})` : 'no database in the region';
  return [
    `Region ${r.region} taken out; ${r.drRegion} takes over. Services: ${r.services.map((s) => `${s.service} (${s.endpoints.join(', ')} out, ${s.remaining.join(', ')} left)`).join('; ') || 'none'}; ${dbLine}.`,
    '',
    '| measure | measured | target | result |',
    '|---|---|---|---|',
    `| end-to-end RTO | ${show(r.rto)} | ${target(r.rto)} | ${result(r.rto)} |`,
    ...(ph.detection !== undefined ? [`| · detection (leader key left the old primary) | ${fmt(ph.detection)} | - | - |`] : []),
    ...(ph.promotion !== undefined ? [`| · database promotion (new leader writable) | ${fmt(ph.promotion)} | - | - |`] : []),
    ...(ph.firstWrite !== undefined ? [`| · first write on the new primary | ${fmt(ph.firstWrite)} | - | - |`] : []),
    ...(ph.restore !== undefined ? [`| · database restored in a sandbox | ${fmt(ph.restore)} | - | - |`] : []),
    ...(ph.traffic !== undefined ? [`| · traffic served from ${r.drRegion} (slowest service) | ${fmt(ph.traffic)} | - | - |`] : []),
    `| RPO${r.lostWrites !== undefined ? ` (${r.lostWrites} acknowledged writes lost)` : ''} | ${show(r.rpo)} | ${target(r.rpo)} | ${result(r.rpo)} |`,
    ...r.services.map((s) => `| ${s.service}: failed requests | ${s.requests.failed} of ${s.requests.sent} | at most ${s.requests.maxFailed} | ${s.requests.failed <= s.requests.maxFailed ? 'pass' : 'FAIL'} |`),
    `| failback: services serve again in ${r.region} | ${r.failback.services ? 'yes' : 'no'} | - | ${r.failback.services || r.services.length === 0 ? 'pass' : 'FAIL'} |`,
    ...(r.databaseRecovery === 'failover' ? [`| failback: database | ${r.failback.database ?? 'not switched back'}${r.failback.databaseMs !== undefined ? ` (${fmt(r.failback.databaseMs)})` : ''} | - | ${r.failback.database ? 'pass' : 'FAIL'} |`] : []),
    ...(failover ? ['', ...failoverTable(failover)] : []),
  ];
}

export function regionRecommendations(target: DrillTarget, r: RegionMeasurement): string[] {
  const out = r.services.flatMap((s) => zoneRecommendations(target, s).filter((x) => !x.startsWith('give the drill')));
  if (target.tier === undefined) out.unshift('give the drill a tier (tier: NAME) so that its end-to-end RTO and RPO are graded');
  if (r.databaseRecovery === 'restore') out.push(`database ${r.database}: keep a standby in ${r.drRegion} (a member in one of its zones) so that losing ${r.region} is a failover, not a restore`);
  if (r.promoted && r.promoted.region !== r.drRegion) out.push(`database ${r.database}: use mode: switchover with to: a member in ${r.drRegion}, or keep no other standby in ${r.region}, so that the promoted member survives the region's loss`);
  if (r.rto?.passed === false) out.push(`the region took ${fmt(r.rto.measuredMs)} to come back against ${fmt(r.rto.targetMs!)}: shorten the slowest phase (see the phases above)`);
  return out;
}

const show = (g: Graded | undefined): string => (g ? fmt(g.measuredMs) : '-');
const result = (g: Graded | undefined): string => (g?.passed === undefined ? '-' : g.passed ? 'pass' : 'FAIL');
function target(g: Graded | undefined): string {
  if (g?.targetMs === undefined) return 'no tier';
  return `${fmt(g.targetMs)} (${g.marginMs! >= 0 ? `${fmt(g.marginMs!)} to spare` : `missed by ${fmt(-g.marginMs!)}`})`;
}
