/**
 * The region failover drill (full DR exercise), composed of the other two:
 * every service endpoint in the primary region taken out as the zone drill
 * does (one outage per service, under its synthetic traffic through the
 * gateway), in the same turn as the database failover drill's fault on the
 * primary there (switchover to, or kill so as to promote, a member in the DR
 * region), or, with no member there, the restore drill's restore of the
 * latest backup into a sandbox. Always reverted: the services failed back,
 * the database switched back to its old primary (journalled as pg-failback).
 */
import type { PolicyMeasurement } from './types.js';
import { BulwarkError, errorMessage } from '../core/errors.js';
import { sleep } from '../core/time.js';
import { runBackupRestoration } from './backup-restoration.js';
import type { RestoreContext } from './context.js';
import { runDatabaseFailover } from './database-failover.js';
import { regionMeasurement } from './region-measure.js';
import { regionPlan, type RegionDatabase, type RegionPlan } from './region-plan.js';
import type { RegionMeasurement } from './region-types.js';
import { revertDatabaseEntry } from './revert-database.js';
import type { FailoverMeasurement } from './types.js';
import { closeOutage, finishOutage, openOutage, outageFailback, outageFault, outageServed, outageSteady, type Outage } from './zone-drill.js';
import type { ZoneMeasurement } from './zone-types.js';

/** Waiting for the cluster whole, then for the switch back to the old primary (each). */
const FAILBACK_WAIT_MS = 3 * 60_000;

export interface RegionResult {
  region: RegionMeasurement;
  failover?: FailoverMeasurement;
  policies: PolicyMeasurement[];
  /** The stop condition of a service, when it ended the drill. */
  stop?: ZoneMeasurement['stop'];
}

interface RegionRun {
  plan: RegionPlan;
  ctx: RestoreContext;
  /** Aborted by a service's stop condition. */
  stopped: AbortController;
  outages: Outage[];
  faultAt?: number;
}

export async function runRegionDrill(ctx: RestoreContext, drillName: string): Promise<RegionResult> {
  const plan = regionPlan(ctx.config, ctx.drill, drillName);
  // A service's stop condition aborts the whole region: the database drill stops and tears down too.
  const stopped = new AbortController();
  const r: RegionRun = { plan, ctx: { ...ctx, signal: ctx.signal ? AbortSignal.any([ctx.signal, stopped.signal]) : stopped.signal }, stopped, outages: [] };
  let failover: FailoverMeasurement | undefined;
  let policies: PolicyMeasurement[] = [];
  const failback: RegionMeasurement['failback'] = { services: false };
  const problems: string[] = [];
  try {
    if (plan.database?.recovery === 'failover') failover = await withFailover(r, plan.database);
    else policies = await withRestore(r, plan.database, problems);
    failback.services = r.outages.every((o) => o.m.failback?.servingMs !== undefined);
  } catch (err) {
    if (!stopped.signal.aborted || ctx.signal?.aborted) throw err;
  } finally {
    await Promise.all(r.outages.map(closeOutage));
    await failbackDatabase(ctx, failback, problems);
  }
  const services = r.outages.map(finishOutage);
  const stop = services.find((s) => s.stop)?.stop;
  return { region: regionMeasurement(plan, { services, failover, policies, failback, problems, faultAt: r.faultAt }), failover, policies, stop };
}

async function withFailover(r: RegionRun, db: RegionDatabase): Promise<FailoverMeasurement> {
  const { ctx, plan } = r;
  return runDatabaseFailover({ ...ctx, drill: { ...ctx.drill, mode: db.mode, to: db.to } }, plan.target, {
    beforeFault: async (from) => {
      if (!db.inRegion.includes(from)) {
        throw new BulwarkError('BAD_REQUEST', `the primary of ${db.name} is ${from}, which is not in region ${plan.region}: this drill would not take it out`, {
          hint: `switch it back first (bulwark db switchover ${db.name} --to ${db.inRegion[0] ?? 'MEMBER'}), or drill the region it is in`,
        });
      }
      // Journalled before anything moves: the next start switches back even if this process dies.
      await ctx.journal.add({ kind: 'pg-failback', database: db.name, member: from });
      await servicesSteady(r);
    },
    withFault: () => servicesOut(r),
    afterFailover: () => servicesBack(r),
  });
}

/** No member in the DR region: the region's services go out while the latest backup is restored into a sandbox, as it would be there. */
async function withRestore(r: RegionRun, db: RegionDatabase | undefined, problems: string[]): Promise<PolicyMeasurement[]> {
  const { ctx, plan } = r;
  if (db && db.policies.length === 0) problems.push(`database ${db.name} has no member in ${plan.drRegion} and no backup policy: nothing brings it back after region ${plan.region} is lost`);
  await servicesSteady(r);
  await servicesOut(r);
  const restoring = db && db.policies.length > 0 ? runBackupRestoration({ ...ctx, drill: { ...ctx.drill, policy: db.policies[0] } }, plan.target) : Promise.resolve([]);
  const [policies] = await Promise.all([restoring, servicesBack(r)]);
  return policies;
}

/** The traffic starts here, once the database is ready for the fault: not beside the warm-up, which it would only slow. */
async function servicesSteady(r: RegionRun): Promise<void> {
  for (const service of r.plan.services) {
    const o = await openOutage(r.ctx, service);
    r.outages.push(o);
    o.run.aborted.signal.addEventListener('abort', () => r.stopped.abort(o.run.aborted.signal.reason), { once: true });
  }
  await Promise.all(r.outages.map((o) => outageSteady(r.ctx, o)));
}

async function servicesOut(r: RegionRun): Promise<void> {
  r.faultAt = performance.now();
  await Promise.all(r.outages.map((o) => outageFault(r.ctx, o)));
}

/** Until each service is served from the DR region, out for fault_duration, then failed back. */
async function servicesBack(r: RegionRun): Promise<void> {
  await Promise.all(r.outages.map((o) => outageServed(r.ctx, o)));
  await sleep(Math.max(0, r.plan.faultMs - (performance.now() - (r.faultAt ?? 0))), r.ctx.signal);
  await Promise.all(r.outages.map((o) => outageFailback(r.ctx, o)));
}

/** Always, with the caller's signal only: the database switched back to the primary it had before the drill. */
async function failbackDatabase(ctx: RestoreContext, failback: RegionMeasurement['failback'], problems: string[]): Promise<void> {
  const entry = ctx.journal.pending.find((e) => e.kind === 'pg-failback');
  if (entry?.kind !== 'pg-failback') return;
  const began = performance.now();
  try {
    failback.database = await ctx.timeline.step('failback', entry.database, () => revertDatabaseEntry(entry, { config: ctx.config, waitMs: FAILBACK_WAIT_MS, signal: ctx.signal }), (d) => d);
    failback.databaseMs = Math.round(performance.now() - began);
    await ctx.journal.remove((e) => e.kind === 'pg-failback');
  } catch (err) {
    problems.push(`database ${entry.database} was not switched back to ${entry.member}: ${errorMessage(err)}; it stays journalled for the next start`);
  }
}
