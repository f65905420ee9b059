import { BulwarkError } from '../core/errors.js';
import type { SilenceRecord } from '../store/index.js';
import type { AlertContext } from './context.js';
import type { AlertEngine } from './engine.js';
import { declareDisaster } from './declare.js';
import { acknowledge, assign, note, resolveIncident } from './incidents.js';
import { verifyLinkSignature } from './links.js';
import { incidentVars } from './vars.js';
import type { DeclareRequest, Incident, IncidentActions, IncidentDetail, IncidentState, LinkAction } from './types.js';

const MAX_SILENCE_MS = 30 * 86_400_000;

/** What the API and the CLI do with incidents and silences; every action is serialised with the engine's own changes. */
export class IncidentActionsImpl implements IncidentActions {
  constructor(private readonly ctx: AlertContext, private readonly engine: AlertEngine) {}

  list(query: { states?: IncidentState[]; limit: number }): Promise<Incident[]> {
    return this.ctx.store.listIncidents(query);
  }

  async detail(id: number): Promise<IncidentDetail> {
    const incident = await this.ctx.store.incident(id);
    if (!incident) throw new BulwarkError('NOT_FOUND', `no incident ${id}`, { hint: 'list incidents with: bulwark incident ls --all' });
    const [timeline, outbox] = await Promise.all([this.ctx.store.incidentEvents(id), this.ctx.store.listOutbox({ incidentId: id, limit: 1000 })]);
    return {
      incident,
      timeline,
      notifications: outbox.reverse().map((o) => ({
        id: o.id, channel: o.channel, kind: o.kind, state: o.state, attempts: o.attempts, createdAt: o.createdAt, deliveredAt: o.deliveredAt, lastError: o.lastError,
        ...((o.message as { to?: string[] }).to ? { to: (o.message as { to?: string[] }).to } : {}),
      })),
      vars: incidentVars(incident, { config: this.ctx.config, now: this.ctx.now() }),
    };
  }

  acknowledge(id: number, actor: string): Promise<Incident> {
    return this.ctx.serial(() => acknowledge(this.ctx, id, actor));
  }

  resolve(id: number, actor: string, details: { rootCause?: string; resolution?: string } = {}): Promise<Incident> {
    return this.ctx.serial(async () => {
      const incident = this.ctx.open.get(id) ?? (await this.ctx.store.incident(id));
      if (!incident) throw new BulwarkError('NOT_FOUND', `no incident ${id}`, { hint: 'list incidents with: bulwark incident ls --all' });
      return resolveIncident(this.ctx, incident, actor, details);
    });
  }

  note(id: number, actor: string, text: string, options: { public?: boolean } = {}): Promise<Incident> {
    return this.ctx.serial(() => note(this.ctx, id, actor, text, options.public ?? false));
  }

  assign(id: number, actor: string, owner: string): Promise<Incident> {
    return this.ctx.serial(() => assign(this.ctx, id, actor, owner));
  }

  declare(request: DeclareRequest, actor: string): Promise<Incident> {
    return this.ctx.serial(() => declareDisaster(this.ctx, request, actor));
  }

  async verifyLink(params: { id: number; action: LinkAction; actor: string; expires: number; signature: string }): Promise<void> {
    verifyLinkSignature(this.ctx.linkKey, params, this.ctx.now());
  }

  async addSilence(input: { matchers: Record<string, string>; durationMs: number; createdBy: string; comment: string; startsAt?: number }): Promise<SilenceRecord> {
    if (Object.keys(input.matchers).length === 0) throw new BulwarkError('BAD_REQUEST', 'a silence needs at least one matcher', { hint: 'for example --match service=api' });
    if (input.durationMs <= 0 || input.durationMs > MAX_SILENCE_MS) throw new BulwarkError('BAD_REQUEST', 'a silence lasts between 1 second and 30 days', { hint: 'pass --duration 2h' });
    const startsAt = input.startsAt ?? this.ctx.now();
    const silence = await this.ctx.store.addSilence({ matchers: input.matchers, startsAt, endsAt: startsAt + input.durationMs, createdBy: input.createdBy, comment: input.comment });
    await this.ctx.events.appendEvent({ subsystem: 'alerting', kind: 'silence.added', subject: `silence/${silence.id}`, data: { by: input.createdBy, matchers: input.matchers, until: new Date(silence.endsAt).toISOString(), comment: input.comment } });
    await this.engine.refreshSilences();
    return silence;
  }

  async listSilences(includeExpired: boolean): Promise<SilenceRecord[]> {
    return this.ctx.store.listSilences(includeExpired ? undefined : this.ctx.now());
  }

  async expireSilence(id: number, actor: string): Promise<SilenceRecord> {
    const silence = await this.ctx.store.expireSilence(id, actor, this.ctx.now());
    await this.ctx.events.appendEvent({ subsystem: 'alerting', kind: 'silence.expired', subject: `silence/${id}`, data: { by: actor } });
    await this.engine.refreshSilences();
    return silence;
  }
}
