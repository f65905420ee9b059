import { BulwarkError } from '../core/errors.js';
import type { IncidentEventInput } from '../store/index.js';
import type { AlertContext } from './context.js';
import { stepAt } from './escalation.js';
import { outboxRows } from './notify.js';
import type { DeclareRequest, Incident } from './types.js';

/** The rule name of incidents a declaration opens; no rule of alerting.rules has it, so no source ever clears it. */
export const DECLARED_RULE = 'disaster_declared';

/**
 * A disaster declared by an incident commander (seed 000's "Disaster
 * Declaration Process"): on the incident given, else on a new one keyed by
 * the declaration (a second declaration with the same key joins the first);
 * the public message is a public note (the status page shows it), the named
 * components are labelled onto the incident (the page shows them as a major
 * outage), and `notify` is told at once with `template`. The incident has no
 * alerts, so only an operator resolves it.
 */
export async function declareDisaster(ctx: AlertContext, req: DeclareRequest, actor: string): Promise<Incident> {
  const now = ctx.now();
  const incident = req.incidentId !== undefined ? await openById(ctx, req.incidentId) : await openDeclared(ctx, req, actor, now);
  const labels = { ...incident.labels, declared: 'true', ...componentLabels(ctx, [...splitComponents(incident.labels.components), ...req.components]) };
  const declared: Incident = { ...incident, labels };
  const resolved = ctx.targets(req.notify, declared);
  const notifyContext = { ...ctx.notifyContext(declared), template: req.template ?? null };
  const outbox = outboxRows(declared, 'trigger', resolved.deliveries, `declare-${now}`, notifyContext);
  const events: IncidentEventInput[] = [
    { kind: 'declared', actor, at: now, data: { title: req.title, components: req.components, recipients: resolved.deliveries.map((d) => `${d.recipient} via ${d.channel}`), unreachable: resolved.unreachable, template: req.template ?? 'incident_notification' } },
    { kind: 'note', actor, at: now, data: { text: req.message, public: true } },
  ];
  if (resolved.unreachable.length) ctx.log.warn({ incident: incident.id, unreachable: resolved.unreachable }, 'a disaster declaration reaches nobody for some targets');
  return ctx.update(incident, { labels, severity: req.severity }, events, outbox);
}

async function openById(ctx: AlertContext, id: number): Promise<Incident> {
  const incident = ctx.open.get(id) ?? (await ctx.store.incident(id));
  if (!incident) throw new BulwarkError('NOT_FOUND', `no incident ${id}`, { hint: 'list open incidents with: bulwark incident ls' });
  if (incident.state === 'resolved') throw new BulwarkError('BAD_REQUEST', `incident ${id} is resolved`, { hint: 'declare on an open incident, or without one to open a new incident' });
  return incident;
}

async function openDeclared(ctx: AlertContext, req: DeclareRequest, actor: string, now: number): Promise<Incident> {
  const policyConfig = req.policy !== undefined ? ctx.alerting.escalation_policies[req.policy] : undefined;
  if (req.policy !== undefined && !policyConfig) {
    throw new BulwarkError('BAD_REQUEST', `escalation policy "${req.policy}" is not configured`, { hint: 'name one of alerting.escalation_policies, or leave policy out' });
  }
  const { incident, created } = await ctx.store.openIncident(
    {
      key: `${DECLARED_RULE}:${req.key}`, rule: DECLARED_RULE, severity: req.severity, title: req.title, policy: policyConfig ? req.policy! : null,
      labels: componentLabels(ctx, req.components), alerts: [], openedAt: now, nextAt: policyConfig ? stepAt(policyConfig, now, 0, 0) : null, reminderAt: null,
    },
    { kind: 'opened', actor, at: now, data: { summary: `disaster declared: ${req.title}`, policy: req.policy ?? 'none: only the declaration\'s notify list is told' } },
    () => [],
  );
  if (created) ctx.metrics.incidentsOpened.inc({ severity: req.severity, rule: DECLARED_RULE });
  ctx.track(incident);
  return incident;
}

function splitComponents(text: string | undefined): string[] {
  return text === undefined || text === '' ? [] : text.split(',');
}

/** The labels the status page reads: `service`/`database` for the first of each, `components` for them all. */
function componentLabels(ctx: AlertContext, components: readonly string[]): Record<string, string> {
  const unique = [...new Set(components)];
  if (unique.length === 0) return {};
  const service = unique.find((c) => ctx.config.services[c] !== undefined);
  const database = unique.find((c) => ctx.config.databases[c] !== undefined);
  return {
    components: unique.join(','),
    ...(service !== undefined ? { service } : {}),
    ...(database !== undefined ? { database } : {}),
  };
}
