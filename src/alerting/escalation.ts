import type { EscalationPolicy } from '../config/index.js';
import type { IncidentEventInput, OutboxInput } from '../store/index.js';
import type { AlertContext } from './context.js';
import { outboxRows } from './notify.js';
import type { Delivery } from './targets.js';
import type { Incident, NotificationKind } from './types.js';

/**
 * Escalation as PagerDuty and seed 000 have it: each level is notified at its
 * offset in the cycle until someone acknowledges; after the last level the
 * policy repeats `repeat` times. Every step is written to the outbox in the
 * same transaction that advances the incident, under a key naming the step,
 * so a crash between the two neither loses nor repeats a page.
 */

export interface Step {
  level: number;
  cycle: number;
  at: number;
}

export function policyOf(ctx: AlertContext, incident: Pick<Incident, 'policy'>): EscalationPolicy | undefined {
  return incident.policy ? ctx.alerting.escalation_policies[incident.policy] : undefined;
}

export function stepAt(policy: EscalationPolicy, openedAt: number, level: number, cycle: number): number {
  return openedAt + cycle * policy.cycleMs + policy.levels[level]!.atMs;
}

/** The step after (level, cycle), or null when the policy is exhausted. */
export function nextStep(policy: EscalationPolicy, openedAt: number, level: number, cycle: number): Step | null {
  if (level + 1 < policy.levels.length) return { level: level + 1, cycle, at: stepAt(policy, openedAt, level + 1, cycle) };
  if (cycle < policy.repeat) return { level: 0, cycle: cycle + 1, at: stepAt(policy, openedAt, 0, cycle + 1) };
  return null;
}

export interface DueLevels {
  outbox: OutboxInput[];
  events: IncidentEventInput[];
  next: Step | null;
}

/** Every level due at `now`, from (level, cycle) on: what to send and where the escalation stands after. */
export function dueLevels(ctx: AlertContext, incident: Incident, now: number): DueLevels {
  const policy = policyOf(ctx, incident);
  const out: DueLevels = { outbox: [], events: [], next: null };
  if (!policy) return out;
  let step: Step | null = { level: incident.nextLevel, cycle: incident.cycle, at: stepAt(policy, incident.openedAt, incident.nextLevel, incident.cycle) };
  while (step && step.at <= now) {
    const level = policy.levels[step.level]!;
    const resolved = ctx.targets(level.targets, incident);
    const kind: NotificationKind = step.level === 0 && step.cycle === 0 ? 'trigger' : 'escalate';
    out.outbox.push(...outboxRows(incident, kind, resolved.deliveries, `c${step.cycle}l${step.level + 1}`, ctx.notifyContext(incident)));
    out.events.push({
      kind: kind === 'trigger' ? 'notified' : 'escalated', actor: 'bulwark', at: now,
      data: { level: step.level + 1, cycle: step.cycle, recipients: resolved.deliveries.map((d) => `${d.recipient} via ${d.channel}`), unreachable: resolved.unreachable },
    });
    if (resolved.unreachable.length) ctx.log.warn({ incident: incident.id, unreachable: resolved.unreachable }, 'escalation level reaches nobody for some targets');
    step = nextStep(policy, incident.openedAt, step.level, step.cycle);
  }
  out.next = step;
  return out;
}

/** Channels and recipients this incident has paged, in the order paged, from its outbox rows: they hear of acknowledgement and resolution. */
export async function pagedSoFar(ctx: AlertContext, incidentId: number): Promise<Delivery[]> {
  const rows = await ctx.store.listOutbox({ incidentId, limit: 1000 });
  const seen = new Map<string, Delivery>();
  for (const row of rows.reverse()) {
    if (row.kind !== 'trigger' && row.kind !== 'escalate') continue;
    const message = row.message as { to?: string[]; fields?: Record<string, string> };
    const key = `${row.channel}|${(message.to ?? []).join(',')}`;
    if (!seen.has(key)) seen.set(key, { channel: row.channel, ...(message.to ? { to: message.to } : {}), recipient: message.fields?.recipient ?? row.channel, via: message.fields?.via ?? 'channel' });
  }
  return [...seen.values()];
}

/** Whom an owner reminder goes to: the owner when the configuration can reach them, else everyone paged. */
export async function ownerDeliveries(ctx: AlertContext, incident: Incident): Promise<Delivery[]> {
  if (incident.owner) {
    const owned = ctx.targets([incident.owner], incident);
    const direct = owned.deliveries.filter((d) => !d.via.startsWith('role:'));
    if (direct.length) return direct;
  }
  return pagedSoFar(ctx, incident.id);
}

export function resolveHoldMs(ctx: AlertContext, incident: Incident): number {
  return incident.flapping ? ctx.alerting.flapping.hold : ctx.alerting.resolve_after;
}

/** When this open incident next needs the engine: a level, a reminder, or the end of its resolve hold. */
export function nextDue(ctx: AlertContext, incident: Incident): number | null {
  const times = [
    incident.state === 'triggered' ? incident.nextAt : null,
    incident.reminderAt,
    incident.clearSince !== null ? incident.clearSince + resolveHoldMs(ctx, incident) : null,
  ].filter((t): t is number => t !== null);
  return times.length ? Math.min(...times) : null;
}
