import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { configSchema, type BulwarkConfig } from '../../config/index.js';
import { silentLogger } from '../../core/logger.js';
import { openSqliteStore, type OutboxRecord, type Store } from '../../store/index.js';
import { IncidentActionsImpl } from '../actions.js';
import { AlertContext } from '../context.js';
import { effectiveRules } from '../default-rules.js';
import { AlertEngine } from '../engine.js';
import { advanceDue } from '../incidents.js';
import { registerAlertingMetrics, type AlertingMetrics } from '../metrics.js';
import type { Signal } from '../types.js';

/**
 * The alerting core as the service wires it (context, engine, operator
 * actions) over a real SQLite store in a temp directory, with a clock the
 * test moves. `tick()` is what the service's timer does when a step is due.
 */

export const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
export const S = 1_000;
export const M = 60 * S;

export class Clock {
  constructor(public t = T0) {}
  readonly now = (): number => this.t;
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface Harness {
  store: Store;
  ctx: AlertContext;
  engine: AlertEngine;
  actions: IncidentActionsImpl;
  metrics: AlertingMetrics;
  registry: Registry;
  clock: Clock;
  path: string;
  /** Feeds signals and waits until the engine processed them. */
  signal(...signals: Signal[]): Promise<void>;
  /** Advances every incident whose step is due at the clock's now. */
  tick(): Promise<void>;
  /** Moves the clock to `t` and ticks. */
  at(t: number): Promise<void>;
  outbox(incidentId?: number): Promise<OutboxRecord[]>;
  /** Stops the engine and closes the store (a daemon going away); the database file stays. */
  close(): Promise<void>;
}

const dirs: string[] = [];

export async function tempDbPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-alerting-'));
  dirs.push(dir);
  return join(dir, 'bulwark.db');
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Opens (or reopens, given `path`) a store and starts the alerting core on it as `AlertingService.start` does. */
export async function openHarness(config: BulwarkConfig, options: { path?: string; clock?: Clock } = {}): Promise<Harness> {
  const path = options.path ?? (await tempDbPath());
  const clock = options.clock ?? new Clock();
  const store = await openSqliteStore({ path });
  await store.migrate();
  await store.alerting.releaseClaims();
  const registry = new Registry();
  const metrics = registerAlertingMetrics(registry);
  const ctx = new AlertContext(store.alerting, store, silentLogger(), metrics, clock.now, () => 'http://bulwark.test', 'test-link-key', () => undefined);
  ctx.configure(config, effectiveRules(config));
  const engine = new AlertEngine(ctx);
  await ctx.load();
  await engine.refreshSilences();
  const tick = () => ctx.serial(() => advanceDue(ctx));
  return {
    store, ctx, engine, actions: new IncidentActionsImpl(ctx, engine), metrics, registry, clock, path,
    signal: (...signals) => engine.handle(signals),
    tick,
    at: async (t) => {
      clock.set(t);
      await tick();
    },
    outbox: async (incidentId) => (await store.alerting.listOutbox({ ...(incidentId !== undefined ? { incidentId } : {}), limit: 1000 })).reverse(),
    close: async () => {
      engine.stop();
      await store.close();
    },
  };
}

/** Three endpoints of `api` in zone a (region r1), one in zone b; webhook channels chat, pager, manager and cto. */
export function alertingConfig(alerting: Record<string, unknown>, extra: Record<string, unknown> = {}): BulwarkConfig {
  const hook = (path: string) => ({ webhook: { url: `http://127.0.0.1:9/${path}` } });
  return configSchema.parse({
    regions: { r1: {} },
    zones: { a: { region: 'r1' }, b: { region: 'r1' } },
    services: {
      api: { endpoints: ['a', 'a', 'a', 'b'].map((zone, i) => ({ url: `http://127.0.0.1:${9001 + i}`, zone })) },
      web: { endpoints: [{ url: 'http://127.0.0.1:9101', zone: 'b' }] },
    },
    ...extra,
    alerting: {
      channels: { chat: hook('chat'), pager: hook('pager'), manager: hook('manager'), cto: hook('cto') },
      ...alerting,
    },
  });
}

/** A signal as the probe source makes them: `service/api`, or `endpoint/api/<n>` with its zone and region. */
export function serviceSignal(rule: string, service: string, firing: boolean, at: number): Signal {
  return { rule, subject: `service/${service}`, firing, at, summary: `${service} is ${firing ? 'down' : 'up again'}`, labels: { service, region: 'r1' } };
}

export function endpointSignal(rule: string, service: string, endpoint: string, zone: string, firing: boolean, at: number): Signal {
  return {
    rule, subject: `endpoint/${service}/${endpoint}`, firing, at, summary: `${service} endpoint ${endpoint} is ${firing ? 'down' : 'up again'}`,
    labels: { service, endpoint, zone, region: 'r1' },
  };
}

export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}
