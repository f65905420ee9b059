import type { AgentView, HealthStatus, ProbeTarget, TargetView } from '../../probes/index.js';

export type OwnerKind = 'service' | 'database';

export interface TargetFact {
  id: string;
  owner: { kind: OwnerKind; name: string };
  member: string;
  zone?: string;
  status: HealthStatus;
}

/** What the probe engine can tell about now; `ProbeEngine` fits it. */
export interface ProbeViews {
  targetViews(): Array<Pick<TargetView, 'id' | 'owner' | 'member' | 'zone' | 'status'>>;
  ownerViews(): Array<{ kind: OwnerKind; name: string; status: HealthStatus }>;
  agentViews(): AgentView[];
}

export const ownerKey = (kind: OwnerKind, name: string): string => `${kind}/${name}`;

function addTo(index: Map<string, Set<string>>, key: string, id: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(id);
}

/**
 * The probes' state as alerting needs it, with per-zone counts kept as events
 * arrive so that a mass outage costs O(1) per event, not a scan of every target.
 */
export class ProbeModel {
  readonly targets = new Map<string, TargetFact>();
  readonly owners = new Map<string, HealthStatus>();
  readonly agents = new Map<string, { zone?: string; reporting: boolean }>();
  private readonly byZone = new Map<string, Set<string>>();
  private readonly downByZone = new Map<string, Set<string>>();
  private readonly byOwner = new Map<string, Set<string>>();

  /** The targets the configuration implies; known statuses are kept, new targets start unknown. */
  setTargets(targets: readonly ProbeTarget[]): void {
    const previous = new Map(this.targets);
    this.targets.clear();
    this.byZone.clear();
    this.downByZone.clear();
    this.byOwner.clear();
    for (const t of targets) {
      this.put({ id: t.id, owner: t.owner, member: t.member, zone: t.zone, status: previous.get(t.id)?.status ?? 'unknown' });
    }
    const owners = new Set(targets.map((t) => ownerKey(t.owner.kind, t.owner.name)));
    for (const k of this.owners.keys()) if (!owners.has(k)) this.owners.delete(k);
  }

  /** The engine's current views, when it is reachable. */
  load(views: ProbeViews): void {
    for (const v of views.targetViews()) this.setStatus(v.id, v.status, v);
    for (const o of views.ownerViews()) this.owners.set(ownerKey(o.kind, o.name), o.status);
    for (const a of views.agentViews()) this.agents.set(a.name, { zone: a.zone, reporting: a.reporting });
  }

  /** A target's new status; a target the configuration did not list (yet) is added. */
  setStatus(id: string, status: HealthStatus, fact: Omit<TargetFact, 'status'>): TargetFact {
    const existing = this.targets.get(id);
    if (!existing) return this.put({ id, owner: fact.owner, member: fact.member, zone: fact.zone, status });
    existing.status = status;
    if (existing.zone !== undefined) {
      if (status === 'down') addTo(this.downByZone, existing.zone, id);
      else this.downByZone.get(existing.zone)?.delete(id);
    }
    return existing;
  }

  zones(): string[] {
    return [...this.byZone.keys()];
  }

  /** Targets in the zone, and how many of them are down. */
  zoneCounts(zone: string): { total: number; down: number } {
    return { total: this.byZone.get(zone)?.size ?? 0, down: this.downByZone.get(zone)?.size ?? 0 };
  }

  ownerTargets(kind: OwnerKind, name: string): TargetFact[] {
    return [...(this.byOwner.get(ownerKey(kind, name)) ?? [])].flatMap((id) => this.targets.get(id) ?? []);
  }

  private put(fact: TargetFact): TargetFact {
    this.targets.set(fact.id, fact);
    addTo(this.byOwner, ownerKey(fact.owner.kind, fact.owner.name), fact.id);
    if (fact.zone !== undefined) {
      addTo(this.byZone, fact.zone, fact.id);
      if (fact.status === 'down') addTo(this.downByZone, fact.zone, fact.id);
    }
    return fact;
  }
}
