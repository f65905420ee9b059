import { BulwarkError } from '../core/errors.js';
import { sleep } from '../core/time.js';
import type { RestoreContext } from './context.js';
import { applyFault, FaultSet, type Fault } from './faults/fault.js';
import { killFault, processOnPort, stopFault, type TargetProcess } from './faults/process.js';
import type { ZoneEndpoint, ZonePlan } from './zone-plan.js';

/** Takes every endpoint of the zone out, each fault journalled before it is applied. */
export async function takeZoneOut(ctx: RestoreContext, plan: ZonePlan, faults: FaultSet, targets: ReadonlyArray<TargetProcess | undefined>, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  await Promise.all(plan.out.map(async (e, i) => faults.add(await faultOne(ctx, plan, e, targets[i]))));
  // A stop condition that fired while the faults went in has reverted the ones it saw; these are the rest.
  if (signal.aborted) await faults.revertAll();
}

/** The processes behind the zone's endpoints (none for method: disable), looked up before the clock starts. */
export async function zoneTargets(ctx: RestoreContext, plan: ZonePlan): Promise<Array<TargetProcess | undefined>> {
  if (plan.method === 'disable' && !ctx.gateway) {
    throw new BulwarkError('USAGE', `method: disable needs the gateway serving ${plan.service}, and this drill runs without one`, {
      hint: 'use method: kill or stop from `bulwark drill run`, or run the drill where the gateway runs (bulwark demo zone)',
    });
  }
  // Look every process up first: a zone goes down at once, not one endpoint per lookup.
  if (plan.method === 'disable') return plan.out.map(() => undefined);
  return Promise.all(plan.out.map((e) => processOnPort(e.port, `endpoint ${e.name} (${e.url})`)));
}

async function faultOne(ctx: RestoreContext, plan: ZonePlan, e: ZoneEndpoint, target: TargetProcess | undefined): Promise<Fault> {
  if (plan.method === 'stop') return stopFault(ctx.journal, target!);
  if (plan.method === 'kill') return killFault(ctx.journal, target!, plan.restart, e.port);
  const gateway = ctx.gateway!;
  const fault = await applyFault(ctx.journal, { kind: 'gateway-admin', service: plan.service, endpoint: e.name }, `disable ${plan.service}/${e.name} in the gateway`,
    () => gateway.setAdminState(plan.service, e.name, 'disabled'));
  return {
    ...fault,
    revert: async () => {
      await gateway.setAdminState(plan.service, e.name, 'enabled');
      await fault.revert();
      return `enabled ${plan.service}/${e.name} in the gateway`;
    },
  };
}

/** Until every endpoint of the zone answers a direct request (status below 500), polled every 50 ms. */
export async function untilZoneServes(plan: ZonePlan, path: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  const pending = new Set(plan.out);
  while (pending.size > 0) {
    for (const e of [...pending]) if (await answers(new URL(path, e.url).toString())) pending.delete(e);
    if (pending.size === 0) break;
    if (performance.now() >= deadline) return false;
    await sleep(50, signal);
  }
  return true;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.status < 500;
  } catch {
    return false;
  }
}
