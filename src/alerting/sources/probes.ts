import type { AlertCondition, BulwarkConfig } from '../../config/index.js';
import type { EventBus } from '../../events/index.js';
import { targetsFromConfig, type ProbeEvents } from '../../probes/index.js';
import type { Signal } from '../types.js';
import { AlertTracker, regionOfZone, RuleIndex, rulesFor, type Emit, type RuleLike, type SignalSources } from './common.js';
import { ProbeModel, type OwnerKind, type ProbeViews, type TargetFact } from './probe-model.js';
import { agentSignal, endpointSignal, ownerSignal, regionSignal, zoneSignal } from './probe-signals.js';

export const PROBE_CONDITIONS: readonly AlertCondition[] = ['service_down', 'database_down', 'endpoint_down', 'zone_down', 'region_down', 'agent_silent'];

export interface ProbeSourceOptions {
  rules: readonly RuleLike[];
  config: BulwarkConfig;
  bus: EventBus<ProbeEvents>;
  /** The probe engine's current state, so a restarted daemon re-derives what is firing. */
  views?: ProbeViews;
  now: () => number;
}

const KIND_LIST = { service: 'services', database: 'databases' } as const;

/**
 * service_down, database_down, endpoint_down, zone_down, region_down and
 * agent_silent, from the probe engine's decisions on the bus.
 */
export class ProbeSource implements SignalSources {
  private readonly model = new ProbeModel();
  private readonly tracker = new AlertTracker();
  private index: RuleIndex;
  private config: BulwarkConfig;
  private emit: Emit | undefined;
  private unsubscribe: Array<() => void> = [];

  constructor(private readonly options: ProbeSourceOptions) {
    this.index = new RuleIndex(rulesFor(options.rules, ...PROBE_CONDITIONS));
    this.config = options.config;
  }

  start(emit: Emit): void {
    this.emit = emit;
    this.model.setTargets(targetsFromConfig(this.config));
    if (this.options.views) this.model.load(this.options.views);
    const { bus } = this.options;
    this.unsubscribe = [
      bus.on('target.state', (e) => this.onTarget(this.model.setStatus(e.target.id, e.to, e.target), e.at)),
      bus.on('owner.state', (e) => {
        this.model.owners.set(`${e.kind}/${e.name}`, e.to);
        this.publish(this.ownerSignals(e.kind, e.name, e.at));
      }),
      bus.on('agent.state', (e) => {
        this.model.agents.set(e.agent, { zone: e.zone, reporting: e.reporting });
        this.publish(this.index.of('agent_silent').map((r) => agentSignal(r, e.agent, this.model, this.config, e.at)));
      }),
    ];
    this.resync();
  }

  stop(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.emit = undefined;
  }

  reload(rules: readonly RuleLike[], config: BulwarkConfig): void {
    this.index = new RuleIndex(rulesFor(rules, ...PROBE_CONDITIONS));
    this.config = config;
    if (!this.emit) return;
    this.model.setTargets(targetsFromConfig(config));
    this.resync();
  }

  snapshot(): Signal[] {
    return this.tracker.snapshot();
  }

  /** Everything evaluated afresh: alerts of removed rules or subjects clear. */
  private resync(): void {
    const now = this.options.now();
    const names = this.index.names();
    this.publish([...this.tracker.dropRules(names, now), ...this.tracker.sync(this.evaluateAll(now), names, now)], false);
  }

  private onTarget(target: TargetFact, at: number): void {
    const { zone } = target;
    const region = regionOfZone(this.config, zone);
    const { kind, name } = target.owner;
    this.publish([
      ...this.index.for('endpoint_down', KIND_LIST[kind], name).map((r) => endpointSignal(r, target, this.config, at)),
      ...(zone === undefined ? [] : this.index.for('zone_down', 'zones', zone).map((r) => zoneSignal(r, zone, this.model, this.config, at))),
      ...(region === undefined ? [] : this.index.for('region_down', 'regions', region).map((r) => regionSignal(r, region, this.model, this.config, at))),
    ]);
  }

  private ownerSignals(kind: OwnerKind, name: string, at: number): Signal[] {
    const when = kind === 'service' ? 'service_down' : 'database_down';
    return this.index.for(when, KIND_LIST[kind], name).map((r) => ownerSignal(r, kind, name, this.model, this.config, at));
  }

  private evaluateAll(at: number): Signal[] {
    const { config: c, model: m, index } = this;
    return [
      ...Object.keys(c.services).flatMap((s) => this.ownerSignals('service', s, at)),
      ...Object.keys(c.databases).flatMap((d) => this.ownerSignals('database', d, at)),
      ...[...m.targets.values()].flatMap((t) => index.for('endpoint_down', KIND_LIST[t.owner.kind], t.owner.name).map((r) => endpointSignal(r, t, c, at))),
      ...index.of('zone_down').flatMap((r) => r.subjects.zones.map((z) => zoneSignal(r, z, m, c, at))),
      ...index.of('region_down').flatMap((r) => r.subjects.regions.map((g) => regionSignal(r, g, m, c, at))),
      ...[...m.agents.keys()].flatMap((a) => index.of('agent_silent').map((r) => agentSignal(r, a, m, c, at))),
    ];
  }

  /** Emits what changed; `track` false when the signals already went through the tracker. */
  private publish(signals: Signal[], track = true): void {
    const changed = track ? signals.flatMap((s) => this.tracker.update(s) ?? []) : signals;
    if (changed.length > 0) this.emit?.(changed);
  }
}
