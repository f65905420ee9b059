import { configSchema, type BulwarkConfig } from '../../config/index.js';
import type { IncidentEventRecord, IncidentRecord, StateChange, StateChangesQuery } from '../../store/index.js';
import type { OwnerKind, ProbeStatus, StatusProbeViews, StatusStore } from '../types.js';

/** A parsed configuration from a plain object, defaults applied. */
export function statusConfig(input: Record<string, unknown>): BulwarkConfig {
  return configSchema.parse(input);
}

/** Probe views the test sets: owners and endpoints by `kind/name` and `kind/name/member`. */
export class FakeProbes implements StatusProbeViews {
  owners = new Map<string, ProbeStatus>();
  targets = new Map<string, { backup: boolean; status: ProbeStatus }>();

  owner(kind: OwnerKind, name: string, status: ProbeStatus): this {
    this.owners.set(`${kind}/${name}`, status);
    return this;
  }

  target(kind: OwnerKind, name: string, member: string, status: ProbeStatus, backup = false): this {
    this.targets.set(`${kind}/${name}/${member}`, { backup, status });
    return this;
  }

  ownerViews() {
    return [...this.owners].map(([key, status]) => {
      const [kind, name] = key.split('/') as [OwnerKind, string];
      return { kind, name, status };
    });
  }

  targetViews() {
    return [...this.targets].map(([key, t]) => {
      const [kind, name] = key.split('/') as [OwnerKind, string];
      return { owner: { kind, name }, backup: t.backup, status: t.status };
    });
  }
}

export function incidentRecord(partial: Partial<IncidentRecord> & Pick<IncidentRecord, 'id'>): IncidentRecord {
  return {
    key: `rule:${partial.id}`, rule: 'api:service_down', severity: 'critical', title: 'service down: service api', state: 'triggered',
    policy: null, labels: {}, alerts: [], openedAt: 0, acknowledgedAt: null, acknowledgedBy: null, resolvedAt: null, resolvedBy: null,
    owner: null, nextLevel: 0, cycle: 0, nextAt: null, clearSince: null, flapping: false, rootCause: null, resolution: null,
    reminderAt: null, updatedAt: partial.openedAt ?? 0, ...partial,
  };
}

/** The store's answers from arrays: state changes as `stateChanges` returns them, incidents newest first. */
export class MemoryStatusStore implements StatusStore {
  changes: StateChange[] = [];
  incidents: IncidentRecord[] = [];
  events = new Map<number, IncidentEventRecord[]>();
  reads = 0;

  change(subjectKind: OwnerKind, subject: string, to: string, at: number): this {
    this.changes.push({ id: this.changes.length + 1, subjectKind, subject, from: '', to, at, reason: null });
    return this;
  }

  incident(record: IncidentRecord, events: Array<Omit<IncidentEventRecord, 'id' | 'incidentId'>> = []): this {
    this.incidents.push(record);
    this.events.set(record.id, events.map((e, i) => ({ ...e, id: i + 1, incidentId: record.id })));
    return this;
  }

  async stateChanges(query: StateChangesQuery): Promise<StateChange[]> {
    this.reads++;
    const mine = this.changes.filter((c) => c.subjectKind === query.subjectKind && (query.subject === undefined || c.subject === query.subject)).sort((a, b) => a.at - b.at);
    const out: StateChange[] = [];
    for (const subject of new Set(mine.map((c) => c.subject))) {
      const before = mine.filter((c) => c.subject === subject && c.at < query.since).pop();
      if (before) out.push(before);
    }
    return [...out, ...mine.filter((c) => c.at >= query.since && (query.until === undefined || c.at <= query.until))];
  }

  readonly alerting = {
    openIncidents: async () => this.incidents.filter((i) => i.state !== 'resolved'),
    listIncidents: async (q: { limit: number }) => [...this.incidents].sort((a, b) => b.openedAt - a.openedAt).slice(0, q.limit),
    incidentEvents: async (id: number) => this.events.get(id) ?? [],
    incident: async (id: number) => this.incidents.find((i) => i.id === id) ?? null,
  };
}
