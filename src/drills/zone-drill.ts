/**
 * The zone-failure drill: synthetic traffic through the gateway, every
 * endpoint of one zone taken out (killed, stopped or disabled in the gateway),
 * the time until the remaining zones serve, then failback and the time until
 * the zone serves again. A stop condition on the traffic's error rate aborts
 * and reverts at once.
 */
import { BulwarkError } from '../core/errors.js';
import { sleep } from '../core/time.js';
import type { RestoreContext } from './context.js';
import { FaultSet } from './faults/fault.js';
import { fmt, graded } from './grade.js';
import { StopCondition, type Breach } from './stop-condition.js';
import { TrafficGenerator, type RequestResult } from './traffic.js';
import { takeZoneOut, untilZoneServes, zoneTargets } from './zone-faults.js';
import type { TargetProcess } from './faults/process.js';
import { zonePlan, type ZonePlan } from './zone-plan.js';
import type { ZoneMeasurement } from './zone-types.js';

/** Consecutive answers that make the steady state before the fault; how long to wait for them. */
const STEADY_ANSWERS = 5;
const STEADY_TIMEOUT_MS = 30_000;
/** How long a zone may take to serve again after failback (a supervisor's restart included). */
const FAILBACK_TIMEOUT_MS = 60_000;

export interface Run {
  plan: ZonePlan;
  traffic: TrafficGenerator;
  faults: FaultSet;
  aborted: AbortController;
  signal: AbortSignal;
  stop?: ZoneMeasurement['stop'];
  wake: () => void;
  waiters: Set<() => void>;
}

export async function runZoneDrill(ctx: RestoreContext, drillName: string): Promise<ZoneMeasurement> {
  const plan = zonePlan(ctx.config, ctx.drill, drillName);
  const targets = await zoneTargets(ctx, plan);
  const run = startRun(ctx, plan);
  const m = emptyMeasurement(plan);
  let faultAt: number | undefined;
  let failbackAt: number | undefined;
  try {
    await ctx.timeline.step('steady', plan.service, () => untilSteady(run), () => `${STEADY_ANSWERS} answers in a row through ${plan.trafficUrl}`);
    faultAt = performance.now();
    await ctx.timeline.step('fault', plan.zone, () => takeZoneOut(ctx, plan, run.faults, targets, run.signal), () => run.faults.active.map((f) => f.describe).join('; '));
    // Not serving while the zone is out is the drill's finding, not its end: failback still runs.
    await ctx.timeline.step('failover', plan.zone, () => untilServedAfter(run, performance.now(), plan.faultMs), (t) => `an answer ${fmt(t)} after the zone went out`)
      .catch((err: unknown) => { if (run.signal.aborted) throw err; });
    await sleep(Math.max(0, plan.faultMs - (performance.now() - faultAt)), run.signal);
    failbackAt = performance.now();
    m.failback = { revertMs: 0 };
    await ctx.timeline.step('failback', plan.zone, async () => {
      const reverted = await run.faults.revertAll();
      if (!reverted.ok) m.problems.push(...reverted.details.filter((d) => d.startsWith('could not')));
      m.failback!.revertMs = Math.round(performance.now() - failbackAt!);
      return reverted.details.join('; ');
    }, (d) => d);
    const path = new URL(plan.trafficUrl).pathname;
    if (await untilZoneServes(plan, path, FAILBACK_TIMEOUT_MS, run.signal)) m.failback.servingMs = Math.round(performance.now() - failbackAt);
    else m.problems.push(`zone ${plan.zone} did not serve again within ${fmt(FAILBACK_TIMEOUT_MS)} of failback`);
  } catch (err) {
    if (!run.aborted.signal.aborted) throw err;
  } finally {
    await run.faults.revertAll();
    await (run.signal.aborted ? run.traffic.abort() : run.traffic.stop());
  }
  return finish(run, m, faultAt, failbackAt);
}

/**
 * One service's endpoints taken out under traffic, in phases, so that the
 * zone drill runs one and the region drill runs one per service beside a
 * database failover. `run.aborted` fires when its stop condition does.
 */
export interface Outage {
  run: Run;
  m: ZoneMeasurement;
  targets: Array<TargetProcess | undefined>;
  faultAt?: number;
  failbackAt?: number;
}

/** Looks the processes up, then starts the traffic. */
export async function openOutage(ctx: RestoreContext, plan: ZonePlan): Promise<Outage> {
  const targets = await zoneTargets(ctx, plan);
  return { run: startRun(ctx, plan), m: emptyMeasurement(plan), targets };
}

export function outageSteady(ctx: RestoreContext, o: Outage): Promise<void> {
  return ctx.timeline.step('steady', o.run.plan.service, () => untilSteady(o.run), () => `${STEADY_ANSWERS} answers in a row through ${o.run.plan.trafficUrl}`);
}

export async function outageFault(ctx: RestoreContext, o: Outage): Promise<void> {
  const { run } = o;
  o.faultAt = performance.now();
  await ctx.timeline.step('fault', run.plan.zone, () => takeZoneOut(ctx, run.plan, run.faults, o.targets, run.signal), () => run.faults.active.map((f) => f.describe).join('; '));
}

/** Not serving while the zone is out is the drill's finding, not its end: failback still runs. */
export async function outageServed(ctx: RestoreContext, o: Outage): Promise<void> {
  const { run } = o;
  await ctx.timeline.step('failover', run.plan.zone, () => untilServedAfter(run, performance.now(), run.plan.faultMs), (t) => `an answer ${fmt(t)} after the zone went out`)
    .catch((err: unknown) => { if (run.signal.aborted) throw err; });
}

export async function outageFailback(ctx: RestoreContext, o: Outage): Promise<void> {
  const { run, m } = o;
  const failbackAt = performance.now();
  o.failbackAt = failbackAt;
  m.failback = { revertMs: 0 };
  await ctx.timeline.step('failback', run.plan.zone, async () => {
    const reverted = await run.faults.revertAll();
    if (!reverted.ok) m.problems.push(...reverted.details.filter((d) => d.startsWith('could not')));
    m.failback!.revertMs = Math.round(performance.now() - failbackAt);
    return reverted.details.join('; ');
  }, (d) => d);
  const path = new URL(run.plan.trafficUrl).pathname;
  if (await untilZoneServes(run.plan, path, FAILBACK_TIMEOUT_MS, run.signal)) m.failback.servingMs = Math.round(performance.now() - failbackAt);
  else m.problems.push(`zone ${run.plan.zone} did not serve again within ${fmt(FAILBACK_TIMEOUT_MS)} of failback`);
}

/** Always: every fault reverted, the traffic stopped. */
export async function closeOutage(o: Outage): Promise<void> {
  await o.run.faults.revertAll();
  await (o.run.signal.aborted ? o.run.traffic.abort() : o.run.traffic.stop());
}

export function finishOutage(o: Outage): ZoneMeasurement {
  return finish(o.run, o.m, o.faultAt, o.failbackAt);
}

function startRun(ctx: RestoreContext, plan: ZonePlan): Run {
  const aborted = new AbortController();
  const waiters = new Set<() => void>();
  const run: Run = {
    plan, faults: new FaultSet(), aborted, waiters,
    signal: ctx.signal ? AbortSignal.any([ctx.signal, aborted.signal]) : aborted.signal,
    wake: () => { for (const w of [...waiters]) w(); },
    traffic: undefined as unknown as TrafficGenerator,
  };
  const stop = plan.stop && new StopCondition(plan.stop, (b) => void onBreach(ctx, run, b));
  run.traffic = new TrafficGenerator({
    url: plan.trafficUrl, ratePerSecond: plan.ratePerSecond, timeoutMs: plan.requestTimeoutMs,
    onResult: (r) => { stop?.observe(r); run.wake(); },
  });
  run.traffic.start();
  ctx.signal?.addEventListener('abort', () => aborted.abort(ctx.signal!.reason), { once: true });
  return run;
}

/** Revert first, then abort: the clock runs from the breach until the last fault is back. */
async function onBreach(ctx: RestoreContext, run: Run, breach: Breach): Promise<void> {
  const reverted = await run.faults.revertAll();
  const breachToRevertMs = Math.round(performance.now() - breach.at);
  run.stop = { reason: breach.reason, breachToRevertMs, reverted: reverted.ok };
  ctx.timeline.record({ step: 'stop', subject: run.plan.zone, startedAt: Date.now() - breachToRevertMs, durationMs: breachToRevertMs, ok: reverted.ok, detail: `${breach.reason}; reverted: ${reverted.details.join('; ') || 'nothing was applied yet'}` });
  run.aborted.abort(new Error(`stop condition: ${breach.reason}`));
}

function waitFor(run: Run, check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      clearTimeout(timer);
      run.waiters.delete(poll);
      run.signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const poll = (): void => { if (check()) done(); };
    const onAbort = (): void => done(new Error(`${what}: the drill was aborted`));
    const timer = setTimeout(() => done(new BulwarkError('INTERNAL', `${what} within ${fmt(timeoutMs)}`)), timeoutMs);
    if (run.signal.aborted) return onAbort();
    run.waiters.add(poll);
    run.signal.addEventListener('abort', onAbort, { once: true });
    poll();
  });
}

function untilSteady(run: Run): Promise<void> {
  return waitFor(run, () => {
    const last = run.traffic.results.slice(-STEADY_ANSWERS);
    return last.length === STEADY_ANSWERS && last.every((r) => r.ok);
  }, STEADY_TIMEOUT_MS, `service ${run.plan.service} did not answer ${STEADY_ANSWERS} requests in a row before the fault (${lastAnswers(run.traffic.results)})`);
}

function lastAnswers(results: readonly RequestResult[]): string {
  if (results.length === 0) return 'no answer at all';
  return `${results.length} answers, the last: ${results.slice(-5).map((r) => r.status ?? r.error).join(', ')}`;
}

/** Milliseconds from `since` until the first good answer to a request sent after it. */
async function untilServedAfter(run: Run, since: number, timeoutMs: number): Promise<number> {
  let at = 0;
  await waitFor(run, () => {
    const first = run.traffic.results.find((r) => r.sentAt >= since && r.ok);
    if (first) at = first.doneAt - since;
    return first !== undefined;
  }, timeoutMs, `the remaining zones of ${run.plan.service} did not serve`);
  return Math.round(at);
}

function emptyMeasurement(plan: ZonePlan): ZoneMeasurement {
  return {
    service: plan.service, zone: plan.zone, method: plan.method, target: plan.target, endpoints: plan.out.map((e) => e.name), remaining: plan.remaining.map((e) => e.name),
    requests: { sent: 0, failed: 0, maxFailed: plan.maxFailed, failedBy: {}, ratePerSecond: plan.ratePerSecond }, problems: [], passed: false,
  };
}

function finish(run: Run, m: ZoneMeasurement, faultAt: number | undefined, failbackAt: number | undefined): ZoneMeasurement {
  const results = run.traffic.results;
  const failed = results.filter((r) => !r.ok);
  m.requests.sent = results.length;
  m.requests.failed = failed.length;
  for (const r of failed) {
    const key = r.status !== undefined ? String(r.status) : r.error ?? 'error';
    m.requests.failedBy[key] = (m.requests.failedBy[key] ?? 0) + 1;
  }
  if (faultAt !== undefined && failbackAt !== undefined) {
    const ms = failoverMs(results, faultAt, failbackAt);
    if (ms !== undefined) m.failover = graded(ms, run.plan.target.rtoMs);
    else m.problems.push(`the remaining zones never served without failures while zone ${m.zone} was out`);
  }
  m.stop = run.stop;
  if (m.requests.failed > m.requests.maxFailed) m.problems.push(`${m.requests.failed} of ${m.requests.sent} requests failed (at most ${m.requests.maxFailed} allowed)`);
  m.passed = !m.stop && m.failback?.servingMs !== undefined && m.failover?.passed !== false && m.problems.length === 0;
  return m;
}

/**
 * From the fault until the remaining zones serve: the answer to the first
 * request sent after the last one that failed while the zone was out (or, with
 * no failure, the first answer after the fault).
 */
export function failoverMs(results: readonly RequestResult[], faultAt: number, failbackAt: number): number | undefined {
  const during = results.filter((r) => r.sentAt >= faultAt && r.sentAt < failbackAt).sort((a, b) => a.sentAt - b.sentAt);
  const lastFailed = during.filter((r) => !r.ok).at(-1);
  const served = during.find((r) => r.ok && (lastFailed === undefined || r.sentAt > lastFailed.sentAt));
  return served === undefined ? undefined : Math.round(served.doneAt - faultAt);
}
