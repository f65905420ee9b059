import type { Component, Member, Topology } from '../model.js';

/** Compact topology builders for the planner's tests. */
export function member(name: string, availability: number, zone?: string, backup = false): Member {
  return zone === undefined ? { name, availability, backup } : { name, availability, zone, backup };
}

export function component(members: Member[], extra: Partial<Component> = {}): Component {
  return { kind: 'service', members, dependsOn: [], ...extra };
}

export function topology(partial: Partial<Topology>): Topology {
  return { tiers: {}, regions: {}, zones: {}, components: {}, ...partial };
}

/** The member, placed on `host`. */
export function onHost(m: Member, host: string): Member {
  return { ...m, host };
}
