import { Gauge, type Registry } from 'prom-client';
import type { BulwarkConfig } from '../config/index.js';
import type { Logger } from '../core/logger.js';
import type { Subsystem } from '../core/lifecycle.js';
import type { Store } from '../store/index.js';
import { maintenanceIntervals } from './maintenance.js';
import { measureWindows, WINDOWS, type SloMeasurement, type WindowName } from './slo.js';

export interface OwnerSlo {
  kind: 'service' | 'database';
  name: string;
  tier: string | null;
  target: number | null;
  windows: Record<WindowName, SloMeasurement> | null;
  computedAt: number;
}

const REFRESH_MS = 30_000;
const PRUNE_MS = 10 * 60_000;
/** The API answers with figures at most this old; a fresh status page should not show start-up emptiness for 30 s. */
const API_STALENESS_MS = 5_000;

/**
 * Turns recorded state changes into availability and error budgets per
 * service and tier, for metrics and the API, and prunes old probe history.
 */
export class SloReporter implements Subsystem<BulwarkConfig> {
  readonly name = 'slo';
  private timers: NodeJS.Timeout[] = [];
  private latest = new Map<string, OwnerSlo>();
  private readonly availability: Gauge<'kind' | 'name' | 'window'>;
  private readonly budget: Gauge<'kind' | 'name' | 'window'>;

  constructor(private config: BulwarkConfig, private readonly store: Store, registry: Registry, private readonly log: Logger, private readonly now: () => number = Date.now) {
    const registers = [registry];
    this.availability = new Gauge({ name: 'bulwark_service_availability_ratio', help: 'Measured availability (up / (up + down), maintenance excluded) per window', labelNames: ['kind', 'name', 'window'], registers });
    this.budget = new Gauge({ name: 'bulwark_error_budget_remaining_ratio', help: 'Error budget left per window (1 untouched, 0 spent, negative overspent)', labelNames: ['kind', 'name', 'window'], registers });
  }

  async start(): Promise<void> {
    this.timers = [
      setInterval(() => void this.refresh().catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'SLO refresh failed')), REFRESH_MS),
      setInterval(() => void this.prune(), PRUNE_MS),
    ];
    for (const timer of this.timers) timer.unref();
    await this.refresh().catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'SLO refresh failed'));
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
  }

  async reload(config: BulwarkConfig): Promise<void> {
    this.config = config;
    this.availability.reset();
    this.budget.reset();
    await this.refresh();
  }

  /** A service changed state: the next API answer recomputes rather than show figures from before it. */
  invalidate(): void {
    this.latest.clear();
  }

  /** The latest figures; recomputed when older than the refresh period. */
  async owners(): Promise<OwnerSlo[]> {
    const oldest = Math.min(...[...this.latest.values()].map((o) => o.computedAt), Number.POSITIVE_INFINITY);
    if (this.latest.size === 0 || this.now() - oldest > API_STALENESS_MS) await this.refresh();
    return [...this.latest.values()];
  }

  async refresh(): Promise<void> {
    const now = this.now();
    const next = new Map<string, OwnerSlo>();
    const owners: Array<{ kind: 'service' | 'database'; name: string; tier?: string }> = [
      ...Object.entries(this.config.services).map(([name, s]) => ({ kind: 'service' as const, name, tier: s.tier })),
      ...Object.entries(this.config.databases).map(([name, d]) => ({ kind: 'database' as const, name, tier: d.tier })),
    ];
    for (const owner of owners) next.set(`${owner.kind}/${owner.name}`, await this.measureOwner(owner, now));
    this.latest = next;
  }

  private async measureOwner(owner: { kind: 'service' | 'database'; name: string; tier?: string }, now: number): Promise<OwnerSlo> {
    const tier = owner.tier ? this.config.sla_tiers[owner.tier] : undefined;
    const span = { start: now - WINDOWS['90d'], end: now };
    const changes = await this.store.stateChanges({ subjectKind: owner.kind, subject: owner.name, since: span.start, until: now });
    const maintenance = maintenanceIntervals(this.config.maintenance_windows, span, owner.name);
    const windows = measureWindows({ changes, now, maintenance, target: tier?.availability ?? 0.999 });
    for (const [window, m] of Object.entries(windows) as Array<[WindowName, SloMeasurement]>) {
      const labels = { kind: owner.kind, name: owner.name, window };
      if (m.availability === null) this.availability.remove(labels);
      else this.availability.set(labels, m.availability);
      if (tier && Number.isFinite(m.errorBudget.remainingRatio)) this.budget.set(labels, m.errorBudget.remainingRatio);
    }
    return { kind: owner.kind, name: owner.name, tier: owner.tier ?? null, target: tier?.availability ?? null, windows, computedAt: now };
  }

  private async prune(): Promise<void> {
    const h = this.config.probes.history;
    try {
      const deleted = await this.store.pruneProbeHistory({ rawMs: h.raw, minuteMs: h.minute, hourMs: h.hour, dayMs: h.day, stateChangesMs: h.state_changes }, this.now());
      this.log.debug({ deleted }, 'probe history pruned');
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'pruning probe history failed; will retry');
    }
  }
}
