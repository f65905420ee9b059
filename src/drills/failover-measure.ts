/**
 * From what a failover drill saw to its figures: the RTO's phases, the write
 * pause, the acknowledged writes lost (and as a time, the RPO), graded
 * against the tier. Pure; times are performance.now() values.
 */
import { fmt, graded } from './grade.js';
import type { Ack } from './sequence-writer.js';
import type { DrillTarget, FailoverMeasurement } from './types.js';

/** What the drill's watcher saw in etcd and PostgreSQL, polling. */
export interface Watched {
  /** The leader key first named someone else, or no one. */
  keyLeftAt?: number;
  /** The new leader first answered as a writable primary. */
  writableAt?: number;
  newLeader?: string;
}

export interface FailoverObservation {
  faultAt: number;
  from: string;
  acks: readonly Ack[];
  unknown: readonly number[];
  watched: Watched;
  /** Sequence numbers present on the new primary after it settled; undefined when they could not be read. */
  present: ReadonlySet<number> | undefined;
}

export type Figures = Pick<FailoverMeasurement, 'to' | 'phasesMs' | 'rto' | 'rpo' | 'writePauseMs' | 'longestGapMs' | 'acknowledged' | 'lost' | 'lostSeqs' | 'unacknowledged' | 'unacknowledgedKept'>;

export function failoverFigures(o: FailoverObservation, target: DrillTarget): Figures {
  const firstNew = o.acks.find((a) => a.member !== o.from);
  const base: Figures = { phasesMs: {}, acknowledged: o.acks.length, lost: 0, lostSeqs: [], unacknowledged: o.unknown.length, longestGapMs: round(longestGap(o.acks)) };
  if (o.present) {
    const lost = o.acks.filter((a) => !o.present!.has(a.seq));
    base.lost = lost.length;
    base.lostSeqs = lost.slice(0, 50).map((a) => a.seq);
    base.unacknowledgedKept = o.unknown.filter((s) => o.present!.has(s)).length;
    base.rpo = graded(round(lostSpan(o.acks, lost)), target.rpoMs);
  }
  if (!firstNew) return base;
  const lastOld = o.acks.findLast((a) => a.member === o.from && a.seq < firstNew.seq);
  // The watcher polls: a phase it saw end after the next one ended is clamped to that end.
  const writableAt = Math.min(o.watched.writableAt ?? firstNew.at, firstNew.at);
  const keyLeftAt = Math.min(o.watched.keyLeftAt ?? writableAt, writableAt);
  return {
    ...base,
    to: firstNew.member,
    phasesMs: { detection: round(Math.max(0, keyLeftAt - o.faultAt)), promotion: round(writableAt - Math.max(keyLeftAt, o.faultAt)), firstWrite: round(firstNew.at - writableAt) },
    rto: graded(round(firstNew.at - o.faultAt), target.rtoMs),
    writePauseMs: round(firstNew.at - (lastOld?.at ?? o.faultAt)),
  };
}

/** The last kept acknowledgement before the first lost one → the last lost one; 0 when nothing was lost. */
function lostSpan(acks: readonly Ack[], lost: readonly Ack[]): number {
  const first = lost[0];
  const last = lost.at(-1);
  if (!first || !last) return 0;
  const kept = acks.findLast((a) => a.seq < first.seq);
  return Math.max(1, last.at - (kept?.at ?? first.at));
}

function longestGap(acks: readonly Ack[]): number {
  let worst = 0;
  for (let i = 1; i < acks.length; i++) worst = Math.max(worst, acks[i]!.at - acks[i - 1]!.at);
  return worst;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** What the report finds wrong, beyond the grades. */
export function failoverProblems(f: FailoverMeasurement): string[] {
  const out: string[] = [];
  if (f.to === undefined) out.push('no write was acknowledged by a new primary');
  if (f.lost > 0 && f.synchronous) out.push(`${f.lost} acknowledged write(s) lost in synchronous mode (sequence numbers ${f.lostSeqs.join(', ')}): synchronous replication promises none`);
  return out;
}

export function failoverGradeIssues(f: FailoverMeasurement): string[] {
  return [
    ...(f.rto?.passed === false ? [`RTO missed by ${fmt(-f.rto.marginMs!)} (${fmt(f.rto.measuredMs)} against ${fmt(f.rto.targetMs!)})`] : []),
    ...(f.rpo?.passed === false ? [`RPO missed by ${fmt(-f.rpo.marginMs!)}: ${f.lost} acknowledged write(s) lost over ${fmt(f.rpo.measuredMs)} against ${fmt(f.rpo.targetMs!)}`] : []),
  ];
}

export function failoverRecommendations(target: DrillTarget, f: FailoverMeasurement | undefined): string[] {
  const out: string[] = [];
  if (target.tier === undefined) out.push('give the drill a tier (tier: NAME under its dr_testing entry, or on the database) so that its RTO and RPO are graded');
  if (!f) return out;
  if (f.rto?.passed === false) {
    out.push(`${f.database}: the ${f.mode} took ${fmt(f.rto.measuredMs)} against an RTO of ${fmt(f.rto.targetMs!)}: ${f.mode === 'kill' ? 'a shorter ttl and loop_wait detect a dead primary sooner' : 'check the standbys keep up (the leader waits for its target to catch up)'}`);
  }
  if (f.lost > 0) out.push(`${f.database}: acknowledged writes were lost: ${f.synchronous ? 'report this: synchronous mode must not lose them' : 'turn on synchronous replication (postgres.synchronous) for this tier'}`);
  if (f.redundantAfterMs === undefined) out.push(`${f.database}: the cluster did not come back whole: see bulwark db status ${f.database}`);
  return out;
}
