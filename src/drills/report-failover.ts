import { fmt } from './grade.js';
import type { FailoverMeasurement, Graded } from './types.js';

/** The failover drill's measurements against targets, as Markdown lines. */
export function failoverTable(f: FailoverMeasurement | undefined): string[] {
  if (!f) return ['nothing was measured'];
  const ms = (x: number | undefined) => (x === undefined ? '-' : fmt(x));
  return [
    `${f.mode === 'kill' ? 'SIGKILL of the primary\'s postmaster' : 'planned switchover'} of ${f.database} (${f.synchronous ? 'synchronous' : 'asynchronous'} replication): ${f.from} → ${f.to ?? 'no new primary'}`,
    '',
    '| measure | measured | target | result |',
    '|---|---|---|---|',
    `| RTO (fault → first acknowledged write on the new primary) | ${ms(f.rto?.measuredMs)} | ${target(f.rto)} | ${verdict(f.rto)} |`,
    `| · detection (the leader key left ${f.from}) | ${ms(f.phasesMs.detection)} | | |`,
    `| · promotion (${f.to ?? 'the new leader'} writable) | ${ms(f.phasesMs.promotion)} | | |`,
    `| · first write there | ${ms(f.phasesMs.firstWrite)} | | |`,
    `| RPO (acknowledged writes lost, as time) | ${ms(f.rpo?.measuredMs)} | ${target(f.rpo)} | ${verdict(f.rpo)} |`,
    `| acknowledged writes lost | ${f.lost} of ${f.acknowledged} | ${f.synchronous ? '0 (synchronous)' : '-'} | ${f.synchronous ? (f.lost === 0 ? 'pass' : 'FAIL') : '-'} |`,
    `| write pause (last ack on ${f.from} → first on ${f.to ?? '?'}) | ${ms(f.writePauseMs)} | | |`,
    `| longest gap between acknowledgements | ${ms(f.longestGapMs)} | | |`,
    `| the new leader's own measure | ${ms(f.managerMs)} | | |`,
    `| fault → ${f.from} streaming from the new leader | ${ms(f.redundantAfterMs)} | | |`,
    `| unacknowledged writes (cut by the fault), kept | ${f.unacknowledged}, ${f.unacknowledgedKept ?? '?'} kept | | |`,
  ];
}

function target(g: Graded | undefined): string {
  if (g?.targetMs === undefined) return '-';
  return `${fmt(g.targetMs)} (${g.marginMs! >= 0 ? `${fmt(g.marginMs!)} to spare` : `missed by ${fmt(-g.marginMs!)}`})`;
}

function verdict(g: Graded | undefined): string {
  return g?.passed === undefined ? '-' : g.passed ? 'pass' : 'FAIL';
}
