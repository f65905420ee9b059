import { BulwarkError } from '../core/errors.js';
import type { OutboxInput } from '../store/index.js';
import type { AlertContext } from './context.js';
import { dueLevels, nextDue, nextStep, ownerDeliveries, pagedSoFar, policyOf, resolveHoldMs, stepAt } from './escalation.js';
import { outboxRows } from './notify.js';
import type { Incident, Signal } from './types.js';

/**
 * The incident state union and its transitions: triggered → acknowledged →
 * resolved, or triggered → resolved. Each transition writes the incident, its
 * timeline entry and its notifications in one store transaction.
 */

export interface OpenRequest {
  key: string;
  rule: string;
  title: string;
  labels: Record<string, string>;
  signal: Signal;
}

export async function openIncident(ctx: AlertContext, req: OpenRequest): Promise<Incident> {
  const rule = ctx.rules.get(req.rule);
  const now = ctx.now();
  const severity = rule?.severity ?? 'warning';
  const policy = rule?.policy && ctx.alerting.escalation_policies[rule.policy] ? rule.policy : null;
  const firstAt = policy ? stepAt(ctx.alerting.escalation_policies[policy]!, now, 0, 0) : null;
  let first: ReturnType<typeof dueLevels> | undefined;
  const { incident, created } = await ctx.store.openIncident(
    { key: req.key, rule: req.rule, severity, title: req.title, policy, labels: req.labels, alerts: [req.signal.subject], openedAt: now, nextAt: firstAt, reminderAt: null },
    { kind: 'opened', actor: 'bulwark', at: now, data: { subject: req.signal.subject, summary: req.signal.summary, policy: policy ?? 'none: recorded, nobody is notified' } },
    (draft) => {
      first = dueLevels(ctx, draft, now);
      return first.outbox;
    },
  );
  if (!created) return addAlert(ctx, incident, req.signal);
  ctx.metrics.incidentsOpened.inc({ severity, rule: req.rule });
  if (!first || (first.events.length === 0 && first.next?.at === firstAt)) {
    ctx.track(incident);
    return incident;
  }
  // The first level went out with the incident; record the step and where escalation stands.
  return ctx.update(incident, { nextLevel: first.next?.level ?? 0, cycle: first.next?.cycle ?? 0, nextAt: first.next?.at ?? null }, first.events);
}

export async function addAlert(ctx: AlertContext, incident: Incident, signal: Signal): Promise<Incident> {
  const alerts = incident.alerts.includes(signal.subject) ? incident.alerts : [...incident.alerts, signal.subject];
  const events = [{ kind: incident.clearSince !== null ? 'recurred' : 'alert_added', actor: 'bulwark', at: ctx.now(), data: { subject: signal.subject, summary: signal.summary } }];
  return ctx.update(incident, { alerts, clearSince: null }, events);
}

export async function removeAlert(ctx: AlertContext, incident: Incident, subject: string, why: string): Promise<Incident> {
  const alerts = incident.alerts.filter((a) => a !== subject);
  const now = ctx.now();
  const clearSince = alerts.length === 0 ? now : null;
  const updated = await ctx.update(incident, { alerts, clearSince }, [{ kind: 'alert_cleared', actor: 'bulwark', at: now, data: { subject, why } }]);
  if (clearSince !== null && resolveHoldMs(ctx, updated) === 0) return resolveIncident(ctx, updated, 'bulwark', {});
  return updated;
}

export async function markFlapping(ctx: AlertContext, incident: Incident, changes: number): Promise<Incident> {
  if (incident.flapping) return incident;
  return ctx.update(incident, { flapping: true }, [{ kind: 'flapping', actor: 'bulwark', at: ctx.now(), data: { changes, hold_ms: ctx.alerting.flapping.hold } }]);
}

/** Whatever is due for this incident now: resolution after its hold, escalation levels, the owner's update reminder. */
export async function advance(ctx: AlertContext, incident: Incident): Promise<Incident> {
  const now = ctx.now();
  if (incident.clearSince !== null && incident.alerts.length === 0 && now >= incident.clearSince + resolveHoldMs(ctx, incident)) {
    return resolveIncident(ctx, incident, 'bulwark', {});
  }
  let current = incident;
  if (current.state === 'triggered' && current.nextAt !== null && current.nextAt <= now) {
    const due = dueLevels(ctx, current, now);
    current = await ctx.update(current, { nextLevel: due.next?.level ?? current.nextLevel, cycle: due.next?.cycle ?? current.cycle, nextAt: due.next?.at ?? null }, due.events, due.outbox);
  }
  if (current.reminderAt !== null && current.reminderAt <= now) current = await remindOwner(ctx, current, now);
  return current;
}

/** One pass of the clock: every open incident whose next step is due advances; one that fails does not hold up the others. Run inside `ctx.serial`. */
export async function advanceDue(ctx: AlertContext): Promise<void> {
  for (const incident of [...ctx.open.values()]) {
    const due = nextDue(ctx, incident);
    if (due === null || due > ctx.now()) continue;
    await ctx.breathe();
    await advance(ctx, incident).catch((err: unknown) => ctx.log.error({ incident: incident.id, err: (err as Error).message }, 'incident step failed; retrying'));
  }
}

async function remindOwner(ctx: AlertContext, incident: Incident, now: number): Promise<Incident> {
  const deliveries = await ownerDeliveries(ctx, incident);
  const outbox = outboxRows(incident, 'update_due', deliveries, `update-${incident.reminderAt}`, ctx.notifyContext(incident));
  return ctx.update(incident, { reminderAt: now + ctx.alerting.update_interval }, [{ kind: 'update_due', actor: 'bulwark', at: now, data: { to: deliveries.map((d) => d.recipient) } }], outbox);
}

function mustBeOpen(incident: Incident | null | undefined, id: number): Incident {
  if (!incident) throw new BulwarkError('NOT_FOUND', `no incident ${id}`, { hint: 'list incidents with: bulwark incident ls --all' });
  return incident;
}

export async function acknowledge(ctx: AlertContext, id: number, actor: string): Promise<Incident> {
  const incident = mustBeOpen(ctx.open.get(id) ?? (await ctx.store.incident(id)), id);
  if (incident.state === 'resolved') throw new BulwarkError('BAD_REQUEST', `incident ${id} is already resolved`, { hint: 'nothing to acknowledge; add a note with: bulwark incident note ID TEXT' });
  if (incident.state === 'acknowledged') return incident;
  const now = ctx.now();
  const acked: Incident = { ...incident, state: 'acknowledged', acknowledgedAt: now, acknowledgedBy: actor, owner: incident.owner ?? actor };
  const outbox = outboxRows(acked, 'acknowledge', await pagedSoFar(ctx, id), 'ack', ctx.notifyContext(acked));
  ctx.metrics.timeToAcknowledge.observe({ tier: incident.labels.tier ?? 'none' }, (now - incident.openedAt) / 1000);
  return ctx.update(incident, {
    state: 'acknowledged', acknowledgedAt: now, acknowledgedBy: actor, owner: acked.owner, nextAt: null, reminderAt: now + ctx.alerting.update_interval,
  }, [{ kind: 'acknowledged', actor, at: now }], outbox);
}

export async function resolveIncident(ctx: AlertContext, incident: Incident, actor: string, details: { rootCause?: string; resolution?: string }): Promise<Incident> {
  if (incident.state === 'resolved') throw new BulwarkError('BAD_REQUEST', `incident ${incident.id} is already resolved`, { hint: 'add what you learned as a note: bulwark incident note ID TEXT' });
  const now = ctx.now();
  const resolved: Incident = { ...incident, state: 'resolved', resolvedAt: now, resolvedBy: actor, rootCause: details.rootCause ?? incident.rootCause, resolution: details.resolution ?? incident.resolution };
  const paged = await pagedSoFar(ctx, incident.id);
  const nctx = ctx.notifyContext(resolved);
  const outbox: OutboxInput[] = [
    ...outboxRows(resolved, 'resolve', paged, 'resolve', nctx),
    ...outboxRows(resolved, 'review_due', await ownerDeliveries(ctx, resolved), 'review', nctx, now + ctx.alerting.review_within),
  ];
  ctx.metrics.timeToResolve.observe({ tier: incident.labels.tier ?? 'none' }, (now - incident.openedAt) / 1000);
  const why = actor === 'bulwark' ? { why: incident.flapping ? 'the condition stayed clear through the flapping hold' : 'the condition cleared' } : {};
  return ctx.update(incident, {
    state: 'resolved', resolvedAt: now, resolvedBy: actor, nextAt: null, reminderAt: null, clearSince: incident.clearSince,
    ...(details.rootCause !== undefined ? { rootCause: details.rootCause } : {}),
    ...(details.resolution !== undefined ? { resolution: details.resolution } : {}),
  }, [{ kind: 'resolved', actor, at: now, data: { ...details, ...why } }], outbox);
}

export async function note(ctx: AlertContext, id: number, actor: string, text: string, isPublic = false): Promise<Incident> {
  const incident = mustBeOpen(ctx.open.get(id) ?? (await ctx.store.incident(id)), id);
  const now = ctx.now();
  const reminderAt = incident.state === 'acknowledged' ? now + ctx.alerting.update_interval : incident.reminderAt;
  return ctx.update(incident, { reminderAt }, [{ kind: 'note', actor, at: now, data: { text, public: isPublic } }]);
}

export async function assign(ctx: AlertContext, id: number, actor: string, owner: string): Promise<Incident> {
  const incident = mustBeOpen(ctx.open.get(id) ?? (await ctx.store.incident(id)), id);
  return ctx.update(incident, { owner }, [{ kind: 'assigned', actor, at: ctx.now(), data: { owner } }]);
}

export { nextStep, policyOf };
