import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.js';
import type { BulwarkConfig } from '../config/index.js';
import type { Subsystem } from '../core/lifecycle.js';
import type { EventBus } from '../events/index.js';
import { getCheckType } from './checks/registry.js';
import { HistoryWriter, type ProbeHistorySink } from './history-writer.js';
import { registerProbeMetrics, type ProbeMetrics } from './probe-metrics.js';
import { decide, type VantageView } from './quorum.js';
import { Scheduler } from './scheduler.js';
import { applyResult, initialState, type HealthStatus, type ProbeState } from './state.js';
import { targetFingerprint, targetsFromConfig, type ProbeTarget } from './targets.js';
import type { CheckResult } from './types.js';
import { AgentRegistry, type AgentView } from './agents.js';
import { ownerStatus } from './owners.js';

export interface ProbeEvents extends Record<string, unknown> {
  'target.state': { target: ProbeTarget; from: HealthStatus; to: HealthStatus; at: number; reason: string };
  'owner.state': { kind: 'service' | 'database'; name: string; from: HealthStatus; to: HealthStatus; at: number };
  'agent.state': { agent: string; zone?: string; reporting: boolean; at: number };
}

export interface TargetView {
  id: string;
  owner: ProbeTarget['owner'];
  member: string;
  zone?: string;
  backup: boolean;
  type: string;
  status: HealthStatus;
  since: number;
  reason: string;
  quorum: number;
  vantages: Array<{ vantage: string; reporting: boolean } & ProbeState>;
}

interface TargetRecord {
  target: ProbeTarget;
  fingerprint: string;
  addedAt: number;
  views: Map<string, ProbeState>;
  status: HealthStatus;
  since: number;
  reason: string;
}

export interface ProbeEngineOptions {
  config: BulwarkConfig;
  log: Logger;
  bus: EventBus<ProbeEvents>;
  history: ProbeHistorySink;
  registry: Registry;
  now?: () => number;
  /** Instrumentation: how late each check started (the benchmark collects these). */
  onScheduleLag?: (lagMs: number) => void;
}

/**
 * Runs every check the configuration implies, from this daemon's vantage point,
 * takes in results from agents at other vantage points, and decides what is up:
 * rise/fall per vantage point, then a quorum across them.
 */
export class ProbeEngine implements Subsystem<BulwarkConfig> {
  readonly name = 'probes';
  private readonly targets = new Map<string, TargetRecord>();
  private readonly owners = new Map<string, HealthStatus>();
  /** Owner key → its targets, so a state change re-decides one owner without scanning every target. */
  private readonly members = new Map<string, Set<TargetRecord>>();
  private readonly metrics: ProbeMetrics;
  private readonly scheduler: Scheduler;
  private readonly writer: HistoryWriter;
  readonly agents: AgentRegistry;
  private readonly now: () => number;
  private config: BulwarkConfig;

  constructor(private readonly options: ProbeEngineOptions) {
    this.config = options.config;
    this.now = options.now ?? Date.now;
    this.metrics = registerProbeMetrics(options.registry);
    this.scheduler = new Scheduler({
      maxConcurrent: this.config.probes.max_concurrent,
      onStart: (_id, lagMs) => {
        this.metrics.lag.observe(lagMs / 1000);
        options.onScheduleLag?.(lagMs);
      },
      onSkip: () => this.metrics.skipped.inc(),
    });
    this.writer = new HistoryWriter(options.history, options.log);
    this.agents = new AgentRegistry({
      timeoutMs: () => this.config.probes.agent_timeout,
      now: this.now,
      onChange: (agent) => this.onAgentChange(agent),
    });
  }

  get vantage(): string {
    return this.config.probes.vantage;
  }

  async start(): Promise<void> {
    this.syncTargets(targetsFromConfig(this.config));
    this.writer.start();
    this.agents.start();
    this.scheduler.start();
  }

  async stop(deadline: AbortSignal): Promise<void> {
    this.agents.stop();
    await this.scheduler.stop(deadline);
    await this.writer.stop();
  }

  async reload(config: BulwarkConfig): Promise<void> {
    this.config = config;
    this.syncTargets(targetsFromConfig(config));
  }

  ready(): boolean {
    return true;
  }

  /** Take one result from a vantage point (this daemon or an agent). Unknown targets are ignored. */
  ingest(vantage: string, targetId: string, result: CheckResult, at = this.now()): void {
    const record = this.targets.get(targetId);
    if (!record) return;
    const target = record.target;
    const previous = record.views.get(vantage) ?? initialState(record.addedAt);
    const inGrace = at - record.addedAt < target.graceMs;
    const { state } = applyResult(previous, result, target, at, inGrace);
    record.views.set(vantage, state);
    this.metrics.checks.inc({ owner: target.owner.name, result: result.ok ? 'ok' : (result.reason ?? 'error') });
    this.metrics.duration.observe({ owner: target.owner.name, type: target.check.type }, result.durationMs / 1000);
    this.writer.add({ target: targetId, at, ok: result.ok, durationMs: Math.round(result.durationMs), reason: result.reason });
    this.decideTarget(record, at);
  }

  /** Targets an agent runs: those that need more than one vantage point. */
  assignmentsFor(_agent: string): ProbeTarget[] {
    return [...this.targets.values()].map((r) => r.target).filter((t) => t.quorum > 1);
  }

  targetViews(): TargetView[] {
    return [...this.targets.values()].map((record) => ({
      id: record.target.id,
      owner: record.target.owner,
      member: record.target.member,
      zone: record.target.zone,
      backup: record.target.backup,
      type: record.target.check.type,
      status: record.status,
      since: record.since,
      reason: record.reason,
      quorum: record.target.quorum,
      vantages: [...record.views.entries()].map(([vantage, state]) => ({ vantage, reporting: this.isReporting(vantage), ...state })),
    }));
  }

  ownerViews(): Array<{ kind: 'service' | 'database'; name: string; status: HealthStatus }> {
    return [...this.owners.entries()].map(([key, status]) => {
      const [kind, name] = key.split('/', 2) as ['service' | 'database', string];
      return { kind, name, status };
    });
  }

  agentViews(): AgentView[] {
    return this.agents.views();
  }

  async flushHistory(): Promise<void> {
    await this.writer.flush();
  }

  private syncTargets(next: ProbeTarget[]): void {
    const wanted = new Map(next.map((t) => [t.id, t]));
    for (const id of this.targets.keys()) {
      if (!wanted.has(id)) this.removeTarget(id);
    }
    for (const target of next) {
      const existing = this.targets.get(target.id);
      const fingerprint = targetFingerprint(target);
      if (existing && existing.fingerprint === fingerprint) {
        existing.target = target;
        continue;
      }
      if (existing) this.removeTarget(target.id);
      this.addTarget(target, fingerprint);
    }
  }

  private addTarget(target: ProbeTarget, fingerprint: string): void {
    const now = this.now();
    const record: TargetRecord = { target, fingerprint, addedAt: now, views: new Map(), status: 'unknown', since: now, reason: 'not checked yet' };
    this.targets.set(target.id, record);
    const key = ownerKey(target.owner);
    if (!this.members.has(key)) this.members.set(key, new Set());
    this.members.get(key)?.add(record);
    const checkType = getCheckType(target.check.type);
    if (!checkType) {
      this.options.log.error({ target: target.id, type: target.check.type }, 'no such check type; target not probed');
      return;
    }
    this.scheduler.add({
      id: target.id,
      intervalMs: target.intervalMs,
      timeoutMs: target.timeoutMs,
      firstRunSpreadMs: Math.floor(target.intervalMs * target.jitter),
      run: async (signal) => {
        const result = await checkType.run(target.check.spec as never, { signal, timeoutMs: target.timeoutMs });
        this.ingest(this.vantage, target.id, result);
      },
    });
  }

  private removeTarget(id: string): void {
    const record = this.targets.get(id);
    this.scheduler.remove(id);
    this.targets.delete(id);
    if (!record) return;
    this.members.get(ownerKey(record.target.owner))?.delete(record);
    this.metrics.up.remove({ target: id, owner: record.target.owner.name, member: record.target.member });
  }

  private isReporting(vantage: string): boolean {
    return vantage === this.vantage || this.agents.isReporting(vantage);
  }

  private decideTarget(record: TargetRecord, at: number): void {
    const views: VantageView[] = [...record.views.entries()].map(([vantage, state]) => ({ vantage, status: state.status, reporting: this.isReporting(vantage) }));
    const decision = decide(views, record.target.quorum, record.status);
    record.reason = decision.reason;
    if (decision.status === record.status) return;
    const from = record.status;
    record.status = decision.status;
    record.since = at;
    const target = record.target;
    const labels = { target: target.id, owner: target.owner.name, member: target.member };
    if (decision.status === 'unknown') this.metrics.up.remove(labels);
    else this.metrics.up.set(labels, decision.status === 'up' ? 1 : 0);
    this.options.log.info({ target: target.id, from, to: decision.status, reason: decision.reason }, 'target state changed');
    this.writer.recordStateChange({ subjectKind: 'target', subject: target.id, from, to: decision.status, at, reason: decision.reason });
    this.options.bus.emit('target.state', { target, from, to: decision.status, at, reason: decision.reason });
    this.decideOwner(target.owner, at);
  }

  private decideOwner(owner: ProbeTarget['owner'], at: number): void {
    const key = ownerKey(owner);
    const status = ownerStatus([...(this.members.get(key) ?? [])].map((r) => r.status));
    const from = this.owners.get(key) ?? 'unknown';
    if (status === from) return;
    this.owners.set(key, status);
    if (status === 'unknown') this.metrics.ownerUp.remove({ kind: owner.kind, name: owner.name });
    else this.metrics.ownerUp.set({ kind: owner.kind, name: owner.name }, status === 'up' ? 1 : 0);
    this.options.log.info({ [owner.kind]: owner.name, from, to: status }, `${owner.kind} state changed`);
    this.writer.recordStateChange({ subjectKind: owner.kind, subject: owner.name, from, to: status, at });
    this.options.bus.emit('owner.state', { kind: owner.kind, name: owner.name, from, to: status, at });
  }

  private onAgentChange(agent: AgentView): void {
    const at = this.now();
    this.metrics.agentUp.set({ agent: agent.name, zone: agent.zone ?? '' }, agent.reporting ? 1 : 0);
    this.options.log.warn({ agent: agent.name, zone: agent.zone, reporting: agent.reporting }, agent.reporting ? 'agent reporting' : 'agent silent: its results no longer count');
    this.writer.recordStateChange({ subjectKind: 'agent', subject: agent.name, from: agent.reporting ? 'silent' : 'reporting', to: agent.reporting ? 'reporting' : 'silent', at });
    this.options.bus.emit('agent.state', { agent: agent.name, zone: agent.zone, reporting: agent.reporting, at });
    for (const record of this.targets.values()) {
      if (record.views.has(agent.name)) this.decideTarget(record, at);
    }
  }
}

function ownerKey(owner: ProbeTarget['owner']): string {
  return `${owner.kind}/${owner.name}`;
}
