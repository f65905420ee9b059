import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BulwarkConfig } from '../config/index.js';
import { silentLogger } from '../core/logger.js';
import { EventBus } from '../events/index.js';
import type { DatabaseHaEvents } from '../postgres-ha/index.js';
import type { ProbeEvents } from '../probes/index.js';
import { openSqliteStore, type Store } from '../store/index.js';
import { reconcileDelayMs } from './reconcile.js';
import { AlertingService } from './service.js';
import { M, S, T0, alertingConfig, removeTempDirs, tempDbPath } from './testing/harness.js';
import type { Channel, DeliveryResult, NotificationKind, OutgoingMessage } from './types.js';

/**
 * The whole subsystem in one process: the probe engine's decisions on a real
 * event bus, the service's own timers (faked, with the clock), a real SQLite
 * store and channels that record what they are sent.
 */

class RecordingChannel implements Channel {
  readonly type = 'webhook';
  readonly messages: OutgoingMessage[] = [];
  private waiters: Array<() => void> = [];
  constructor(readonly name: string) {}
  /** While set, sends hang until aborted (a receiver that never answers, then the daemon stops). */
  static hang = false;
  async send(message: OutgoingMessage, signal: AbortSignal): Promise<DeliveryResult> {
    if (RecordingChannel.hang) {
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, retryable: true, error: 'aborted' }), { once: true }));
    }
    this.messages.push(message);
    for (const w of this.waiters.splice(0)) w();
    return { ok: true };
  }
  /** Resolves once the channel holds `n` messages. */
  until(n: number): Promise<void> {
    if (this.messages.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(() => void this.until(n).then(resolve)));
  }
  kinds(): NotificationKind[] {
    return this.messages.map((m) => m.kind);
  }
}

const LONG = 24 * 60 * M;
const ZONES = { zones: { a: { region: 'r1' }, b: { region: 'r1' } } };

function config(): BulwarkConfig {
  return alertingConfig({
    rules: { 'api-down': { when: 'service_down', severity: 'critical', escalation: 'page', services: ['api'] } },
    escalation_policies: { page: [{ level_1: 'chat', timeout: '5 minutes' }, { level_2: 'manager', timeout: '30 minutes' }] },
  }, ZONES);
}

let store: Store;
let path: string;
const channels = new Map<string, RecordingChannel>();
const services: AlertingService[] = [];

function channel(name: string): RecordingChannel {
  return channels.get(name)!;
}

async function startService(bus: EventBus<ProbeEvents & DatabaseHaEvents>, registry = new Registry(), options: { config?: BulwarkConfig; reconcileAfterMs?: number } = { reconcileAfterMs: M }): Promise<AlertingService> {
  channels.clear();
  const service = new AlertingService({
    config: options.config ?? config(), store, bus, registry, log: silentLogger(), apiUrl: () => 'http://127.0.0.1:9180',
    createChannel: (name) => {
      const c = new RecordingChannel(name);
      channels.set(name, c);
      return c;
    },
    intervals: { database: LONG, backups: LONG, burn: LONG, metric: LONG },
    ...(options.reconcileAfterMs !== undefined ? { reconcileAfterMs: options.reconcileAfterMs } : {}),
  });
  await service.start();
  services.push(service);
  return service;
}

const serviceState = (to: 'up' | 'down', at: number): ProbeEvents['owner.state'] => ({ kind: 'service', name: 'api', from: to === 'up' ? 'down' : 'up', to, at });

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: T0 });
  path = await tempDbPath();
  store = await openSqliteStore({ path });
  await store.migrate();
});
afterEach(async () => {
  RecordingChannel.hang = false;
  for (const s of services.splice(0)) await s.stop();
  await store.close();
  vi.useRealTimers();
});
afterAll(removeTempDirs);

describe('AlertingService', () => {
  it('pages on a service down, escalates at the level timeout, stops on acknowledgement and resolves when it is back', async () => {
    const bus = new EventBus<ProbeEvents & DatabaseHaEvents>();
    const registry = new Registry();
    const service = await startService(bus, registry);
    bus.emit('owner.state', serviceState('down', T0));
    await channel('chat').until(1);
    const [trigger] = channel('chat').messages;
    expect(trigger).toMatchObject({ kind: 'trigger', incidentId: 1, severity: 'critical', dedupKey: 'api-down:service/api', idempotencyKey: 'incident-1.c0l1.chat' });
    expect(trigger!.links.acknowledge).toMatch(/^http:\/\/127\.0\.0\.1:9180\/.*incidents\/1/);

    await vi.advanceTimersByTimeAsync(5 * M - 1);
    expect(channel('manager').messages).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await channel('manager').until(1);
    expect(channel('manager').messages[0]).toMatchObject({ kind: 'escalate', idempotencyKey: 'incident-1.c0l2.manager' });

    await vi.advanceTimersByTimeAsync(M);
    await service.actions.acknowledge(1, 'alice');
    await Promise.all([channel('chat').until(2), channel('manager').until(2)]);

    bus.emit('owner.state', serviceState('up', Date.now()));
    await vi.advanceTimersByTimeAsync(30 * S);
    await Promise.all([channel('chat').until(3), channel('manager').until(3)]);
    expect([channel('chat').kinds(), channel('manager').kinds()]).toEqual([['trigger', 'acknowledge', 'resolve'], ['escalate', 'acknowledge', 'resolve']]);
    expect(await store.alerting.incident(1)).toMatchObject({ state: 'resolved', acknowledgedAt: T0 + 6 * M, resolvedAt: T0 + 6 * M + 30 * S });

    const metric = async (name: string) => (await registry.getSingleMetric(name)!.get()).values;
    expect(await metric('bulwark_incidents_open')).toEqual([]);
    expect((await metric('bulwark_alert_notifications_total')).map((v) => [v.labels.channel, v.labels.result, v.value])).toEqual([['chat', 'delivered', 3], ['manager', 'delivered', 3]]);
  });

  it('pages for a service still down when its silence runs out, within the silence refresh (15 s)', async () => {
    const bus = new EventBus<ProbeEvents & DatabaseHaEvents>();
    const service = await startService(bus);
    await service.actions.addSilence({ matchers: { service: 'api' }, durationMs: 10 * M, createdBy: 'alice', comment: 'deploy' });
    bus.emit('owner.state', serviceState('down', T0));
    await vi.advanceTimersByTimeAsync(10 * M - 1);
    expect(channel('chat').messages).toEqual([]);
    await vi.advanceTimersByTimeAsync(15 * S);
    await channel('chat').until(1);
    expect(channel('chat').kinds()).toEqual(['trigger']);
    expect((await store.alerting.incident(1))!.openedAt).toBeLessThanOrEqual(T0 + 10 * M + 15 * S);
  });

  it('resolves the incident of a rule removed by a reload instead of paging for it forever', async () => {
    const bus = new EventBus<ProbeEvents & DatabaseHaEvents>();
    const service = await startService(bus);
    bus.emit('owner.state', serviceState('down', T0));
    await channel('chat').until(1);
    const withoutRule = alertingConfig({
      rules: { 'web-down': { when: 'service_down', severity: 'critical', escalation: 'page', services: ['web'] } },
      escalation_policies: { page: [{ level_1: 'chat', timeout: '5 minutes' }, { level_2: 'manager', timeout: '30 minutes' }] },
    }, ZONES);
    await service.reload(withoutRule);
    await vi.advanceTimersByTimeAsync(30 * S);
    expect(await store.alerting.incident(1)).toMatchObject({ state: 'resolved', alerts: [], resolvedAt: T0 + 30 * S });
    await channel('chat').until(1);
    expect(channel('chat').kinds()).toEqual(['resolve']);
    await vi.advanceTimersByTimeAsync(10 * M);
    expect(channel('manager').messages).toEqual([]);
  });

  it('sends again, once, what a stopped daemon was sending, and counts it as a possible duplicate', async () => {
    const bus = new EventBus<ProbeEvents & DatabaseHaEvents>();
    RecordingChannel.hang = true;
    const first = await startService(bus);
    bus.emit('owner.state', serviceState('down', T0));
    await vi.advanceTimersByTimeAsync(S);
    expect((await store.alerting.listOutbox({ limit: 10 })).map((r) => r.state)).toEqual(['sending']);
    await first.stop();
    RecordingChannel.hang = false;

    const registry = new Registry();
    await startService(new EventBus<ProbeEvents & DatabaseHaEvents>(), registry);
    await channel('chat').until(1);
    expect(channel('chat').messages.map((m) => m.idempotencyKey)).toEqual(['incident-1.c0l1.chat']);
    await vi.advanceTimersByTimeAsync(0); // the outcome is written after the send returns
    expect(await store.alerting.listOutbox({ limit: 10 })).toMatchObject([{ state: 'delivered', attempts: 2 }]);
    expect((await registry.getSingleMetric('bulwark_alert_notifications_resent_total')!.get()).values).toMatchObject([{ labels: { channel: 'chat' }, value: 1 }]);
  });

  it('after a restart, waits for slow health checks to decide before taking an incident as cleared, and pages nobody again', async () => {
    const slow = alertingConfig({
      rules: { 'api-down': { when: 'service_down', severity: 'critical', escalation: 'page', services: ['api'] } },
      escalation_policies: { page: [{ level_1: 'chat', timeout: '5 minutes' }, { level_2: 'manager', timeout: '30 minutes' }] },
    }, { ...ZONES, services: { api: { health_check: { interval: '1m', fall: 3, timeout: '5s' }, endpoints: [{ url: 'http://127.0.0.1:9001', zone: 'a' }] } } });
    expect(reconcileDelayMs(slow)).toBe(3 * M + 5 * S);
    const bus = new EventBus<ProbeEvents & DatabaseHaEvents>();
    const first = await startService(bus, new Registry(), { config: slow });
    bus.emit('owner.state', serviceState('down', T0));
    await channel('chat').until(1);
    await first.stop();
    services.splice(0);

    // The restarted daemon's probes need 3 checks a minute apart to call api down again.
    await startService(bus, new Registry(), { config: slow });
    await vi.advanceTimersByTimeAsync(3 * M);
    bus.emit('owner.state', serviceState('down', Date.now()));
    await vi.advanceTimersByTimeAsync(10 * S);
    expect(await store.alerting.openIncidents()).toEqual([expect.objectContaining({ id: 1, alerts: ['service/api'], clearSince: null })]);
    expect((await store.alerting.listOutbox({ limit: 10 })).map((r) => `${r.kind} ${r.channel}`)).toEqual(['trigger chat']);
  });

  it('after a restart, pages nobody twice and resolves an incident whose service nobody reports down by the reconcile time', async () => {
    const bus = new EventBus<ProbeEvents & DatabaseHaEvents>();
    const first = await startService(bus);
    bus.emit('owner.state', serviceState('down', T0));
    await channel('chat').until(1);
    await first.stop();

    await vi.advanceTimersByTimeAsync(M);
    await startService(new EventBus<ProbeEvents & DatabaseHaEvents>());
    await vi.advanceTimersByTimeAsync(M - 1);
    expect(channel('chat').messages).toEqual([]);
    expect((await store.alerting.incident(1))!.alerts).toEqual(['service/api']);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(30 * S);
    await channel('chat').until(1);
    expect(channel('chat').kinds()).toEqual(['resolve']);
    expect(await store.alerting.incident(1)).toMatchObject({ state: 'resolved', resolvedAt: T0 + 2 * M + 30 * S });
    expect((await store.alerting.listOutbox({ limit: 10 })).map((r) => `${r.kind} ${r.channel} ${r.state}`).reverse()).toEqual([
      'trigger chat delivered', 'resolve chat delivered', 'review_due chat pending',
    ]);
  });
});
