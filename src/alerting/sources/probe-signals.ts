import type { BulwarkConfig } from '../../config/index.js';
import type { HealthStatus } from '../../probes/index.js';
import type { Signal } from '../types.js';
import { labels, regionOfZone, tierOf, type RuleLike } from './common.js';
import { ownerKey, type OwnerKind, type ProbeModel, type TargetFact } from './probe-model.js';

/** How each probe condition's alert is built from the model; the caller picks the rules that cover the subject. */

function failing(down: number, total: number, noun: string): string {
  if (total > 0 && down === total) return `all ${total} ${noun}${total === 1 ? '' : 's'} failing`;
  return `${down} of ${total} ${noun}${total === 1 ? '' : 's'} failing`;
}

function regionLabels(regions: ReadonlySet<string>): Record<string, string | undefined> {
  const list = [...regions].sort();
  return list.length === 1 ? { region: list[0] } : { regions: list.length > 0 ? list.join(',') : undefined };
}

export function ownerSignal(rule: RuleLike, kind: OwnerKind, name: string, model: ProbeModel, config: BulwarkConfig, at: number): Signal {
  const subject = ownerKey(kind, name);
  const status: HealthStatus = model.owners.get(subject) ?? 'unknown';
  const targets = model.ownerTargets(kind, name);
  const down = targets.filter((t) => t.status === 'down').length;
  const detail = failing(down, targets.length, kind === 'service' ? 'endpoint' : 'member');
  const firing = status === 'down';
  const regions = new Set(targets.flatMap((t) => regionOfZone(config, t.zone) ?? []));
  return {
    rule: rule.name, subject, firing, at,
    summary: firing ? `${name} is down (${detail})` : `${name} is ${status === 'up' ? 'up again' : 'no longer known to be down'} (${detail})`,
    labels: labels({ [kind]: name, tier: tierOf(config, kind, name), ...regionLabels(regions) }),
  };
}

export function endpointSignal(rule: RuleLike, target: TargetFact, config: BulwarkConfig, at: number): Signal {
  const subject = `endpoint/${target.id}`;
  const { kind, name } = target.owner;
  const firing = target.status === 'down';
  return {
    rule: rule.name, subject, firing, at,
    summary: `${name} ${kind === 'service' ? 'endpoint' : 'member'} ${target.member} is ${firing ? 'down' : target.status === 'up' ? 'up again' : 'no longer known to be down'}`,
    labels: labels({
      [kind]: name, endpoint: target.member, zone: target.zone, region: regionOfZone(config, target.zone), tier: tierOf(config, kind, name),
    }),
  };
}

function areaSignal(rule: RuleLike, what: 'zone' | 'region', area: string, counts: { total: number; down: number }, extra: Record<string, string | undefined>, at: number): Signal {
  const subject = `${what}/${area}`;
  const firing = counts.total > 0 && counts.down === counts.total;
  const detail = failing(counts.down, counts.total, 'target');
  return {
    rule: rule.name, subject, firing, at,
    summary: firing ? `${what} ${area} is down (${detail})` : `${what} ${area} is back (${detail})`,
    labels: labels({ [what]: area, ...extra }),
  };
}

export function zoneSignal(rule: RuleLike, zone: string, model: ProbeModel, config: BulwarkConfig, at: number): Signal {
  return areaSignal(rule, 'zone', zone, model.zoneCounts(zone), { region: regionOfZone(config, zone) }, at);
}

export function regionSignal(rule: RuleLike, region: string, model: ProbeModel, config: BulwarkConfig, at: number): Signal {
  const counts = { total: 0, down: 0 };
  for (const zone of model.zones()) {
    if (regionOfZone(config, zone) !== region) continue;
    const c = model.zoneCounts(zone);
    counts.total += c.total;
    counts.down += c.down;
  }
  return areaSignal(rule, 'region', region, counts, {}, at);
}

export function agentSignal(rule: RuleLike, agent: string, model: ProbeModel, config: BulwarkConfig, at: number): Signal {
  const subject = `agent/${agent}`;
  const view = model.agents.get(agent);
  const firing = view !== undefined && !view.reporting;
  return {
    rule: rule.name, subject, firing, at,
    summary: firing ? `agent ${agent} has stopped reporting` : `agent ${agent} is reporting again`,
    labels: labels({ agent, zone: view?.zone, region: regionOfZone(config, view?.zone) }),
  };
}
