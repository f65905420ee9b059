import { fmt } from './grade.js';
import type { DrillTarget, Graded } from './types.js';
import type { ZoneMeasurement } from './zone-types.js';

/** The zone drill's measurements against its targets, as Markdown lines. */
export function zoneMeasurementTable(z: ZoneMeasurement): string[] {
  const failedBy = Object.entries(z.requests.failedBy).map(([k, n]) => `${k}: ${n}`).join(', ');
  return [
    `Zone ${z.zone} of service ${z.service} taken out by ${z.method} (${z.endpoints.join(', ')}); remaining: ${z.remaining.join(', ')}.`,
    '',
    '| measure | measured | target | result |',
    '|---|---|---|---|',
    `| failed requests | ${z.requests.failed} of ${z.requests.sent} (${z.requests.ratePerSecond}/s)${failedBy ? `: ${failedBy}` : ''} | at most ${z.requests.maxFailed} | ${z.requests.failed <= z.requests.maxFailed ? 'pass' : 'FAIL'} |`,
    `| failover: until the remaining zones serve | ${z.failover ? fmt(z.failover.measuredMs) : '-'} | ${rto(z.failover)} | ${z.failover?.passed === false ? 'FAIL' : z.failover ? 'pass' : '-'} |`,
    `| failback: faults reverted | ${z.failback ? fmt(z.failback.revertMs) : '-'} | - | - |`,
    `| failback: until the zone serves again | ${z.failback?.servingMs !== undefined ? fmt(z.failback.servingMs) : '-'} | - | ${z.failback?.servingMs !== undefined ? 'pass' : 'FAIL'} |`,
    ...(z.stop ? [`| stop condition: breach → every fault reverted | ${fmt(z.stop.breachToRevertMs)} | 1s | ${z.stop.reason} |`] : []),
  ];
}

function rto(g: Graded | undefined): string {
  if (g?.targetMs === undefined) return 'no tier';
  return `RTO ${fmt(g.targetMs)}${g.marginMs !== undefined ? ` (${g.marginMs >= 0 ? `${fmt(g.marginMs)} to spare` : `missed by ${fmt(-g.marginMs)}`})` : ''}`;
}

export function zoneRecommendations(target: DrillTarget, z: ZoneMeasurement): string[] {
  const out: string[] = [];
  if (target.tier === undefined) out.push(`give the drill or service ${z.service} a tier so that its failover is graded against an RTO`);
  if (z.requests.failed > z.requests.maxFailed) {
    out.push(`service ${z.service}: ${z.requests.failed} requests failed while zone ${z.zone} was out: configure retries (retries: { attempts: 2, retry_on: [connect-failure, reset, gateway-error] }) and a per_try_timeout below the client's timeout, so that a request to a dead zone is retried in another`);
  }
  if (z.failover?.passed === false) out.push(`failover took ${fmt(z.failover.measuredMs)} against an RTO of ${fmt(z.failover.targetMs!)}: shorten health_check interval × fall, or enable outlier_detection`);
  if (z.failback && z.failback.servingMs === undefined) out.push(`zone ${z.zone} did not serve again after failback: check what restarts its endpoints (restart: respawn, or a supervisor)`);
  if (z.stop) out.push('the stop condition ended the drill: fix what the issues name, then run it again');
  return out;
}
