import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../core/logger.js';
import { openSqliteStore, type OutboxInput, type OutboxRecord, type Store } from '../store/index.js';
import { registerAlertingMetrics, type AlertingMetrics } from './metrics.js';
import { OutboxSender, backoffMs } from './sender.js';
import { Clock, M, S, T0, removeTempDirs, tempDbPath } from './testing/harness.js';
import type { Channel, DeliveryResult, OutgoingMessage } from './types.js';

/** The outbox worker against a real SQLite store and a channel that answers as scripted. */

class ScriptedChannel implements Channel {
  readonly type = 'webhook';
  readonly sent: Array<{ key: string; at: number }> = [];
  constructor(readonly name: string, private readonly clock: Clock, private readonly answers: DeliveryResult[] = []) {}
  async send(message: OutgoingMessage): Promise<DeliveryResult> {
    this.sent.push({ key: message.idempotencyKey, at: this.clock.t });
    return this.answers.shift() ?? { ok: true };
  }
}

function row(key: string, overrides: Partial<OutboxInput> = {}): OutboxInput {
  const message: OutgoingMessage = {
    kind: 'trigger', incidentId: null, dedupKey: 'k', severity: 'critical', subject: key, text: key, links: {}, idempotencyKey: key, fields: {},
  };
  return { idempotencyKey: key, channel: 'hook', incidentId: null, kind: 'trigger', message, createdAt: T0, deadlineAt: T0 + 60 * M, ...overrides };
}

const fail = (retryable: boolean): DeliveryResult => ({ ok: false, retryable, error: retryable ? 'HTTP 500' : 'HTTP 400' });

let store: Store;
let clock: Clock;
let registry: Registry;
let metrics: AlertingMetrics;

beforeEach(async () => {
  store = await openSqliteStore({ path: await tempDbPath() });
  await store.migrate();
  clock = new Clock();
  registry = new Registry();
  metrics = registerAlertingMetrics(registry);
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await store.close();
});
afterAll(removeTempDirs);

function sender(channel: Channel, rateLimit = 60): OutboxSender {
  return new OutboxSender({
    store: store.alerting, channels: () => new Map([[channel.name, channel]]), rateLimits: () => new Map([[channel.name, rateLimit]]),
    metrics, log: silentLogger(), now: clock.now,
  });
}

async function rows(): Promise<OutboxRecord[]> {
  return (await store.alerting.listOutbox({ limit: 100 })).reverse();
}

async function passAt(s: OutboxSender, t: number): Promise<void> {
  clock.set(t);
  await s.pass();
}

async function counter(name: string): Promise<Record<string, number>> {
  const { values } = await registry.getSingleMetric(name)!.get();
  return Object.fromEntries(values.map((v) => [Object.values(v.labels).join(','), v.value]));
}

describe('OutboxSender', () => {
  it('backs off 1 s, then 2 s, with jitter around it, capped at 5 minutes', () => {
    expect([1, 2, 3, 20].map((a) => backoffMs(a, () => 0.5))).toEqual([1_000, 2_000, 4_000, 300_000]);
    expect([backoffMs(1, () => 0), backoffMs(1, () => 0.999)]).toEqual([500, 1_499]);
  });

  it('retries a retryable failure with backoff and delivers on the third attempt', async () => {
    const channel = new ScriptedChannel('hook', clock, [fail(true), fail(true)]);
    const s = sender(channel);
    await store.alerting.enqueue([row('a')]);
    await passAt(s, T0);
    expect(await rows()).toMatchObject([{ state: 'pending', attempts: 1, nextAttemptAt: T0 + 1_000, lastError: 'HTTP 500' }]);
    await passAt(s, T0 + 999);
    await passAt(s, T0 + 1_000);
    expect(await rows()).toMatchObject([{ state: 'pending', attempts: 2, nextAttemptAt: T0 + 3_000 }]);
    await passAt(s, T0 + 2_999);
    await passAt(s, T0 + 3_000);
    expect(await rows()).toMatchObject([{ state: 'delivered', attempts: 3, deliveredAt: T0 + 3_000, lastError: null }]);
    expect(channel.sent.map((x) => x.at - T0)).toEqual([0, 1_000, 3_000]);
    expect(await counter('bulwark_alert_notifications_total')).toEqual({ 'hook,retry': 2, 'hook,delivered': 1 });
  });

  it('honours Retry-After as a floor over the backoff, so "Retry-After: 0" cannot make it hammer the receiver', async () => {
    const channel = new ScriptedChannel('hook', clock, [
      { ok: false, retryable: true, error: 'HTTP 429', retryAfterMs: 0 },
      { ok: false, retryable: true, error: 'HTTP 503', retryAfterMs: 30_000 },
    ]);
    const s = sender(channel);
    await store.alerting.enqueue([row('a')]);
    await passAt(s, T0);
    expect(channel.sent).toHaveLength(1);
    expect(await rows()).toMatchObject([{ state: 'pending', attempts: 1, nextAttemptAt: T0 + 1_000, lastError: 'HTTP 429' }]);
    await passAt(s, T0 + 1_000);
    expect(await rows()).toMatchObject([{ state: 'pending', attempts: 2, nextAttemptAt: T0 + 31_000, lastError: 'HTTP 503' }]);
    await passAt(s, T0 + 31_000);
    expect(channel.sent.map((x) => x.at - T0)).toEqual([0, 1_000, 31_000]);
  });

  it('gives up a non-retryable failure at once', async () => {
    const channel = new ScriptedChannel('hook', clock, [fail(false)]);
    await store.alerting.enqueue([row('a')]);
    await passAt(sender(channel), T0);
    expect(await rows()).toMatchObject([{ state: 'dead', attempts: 1, lastError: 'HTTP 400' }]);
    expect(channel.sent).toHaveLength(1);
  });

  it('gives up when the next attempt would fall after the deadline', async () => {
    const channel = new ScriptedChannel('hook', clock, [fail(true), fail(true)]);
    const s = sender(channel);
    await store.alerting.enqueue([row('a', { deadlineAt: T0 + 2_500 })]);
    await passAt(s, T0);
    expect(await rows()).toMatchObject([{ state: 'pending', nextAttemptAt: T0 + 1_000 }]);
    await passAt(s, T0 + 1_000);
    expect(await rows()).toMatchObject([{ state: 'dead', attempts: 2, lastError: 'HTTP 500' }]);
  });

  it('does not send a row whose deadline passed before it could go out', async () => {
    const channel = new ScriptedChannel('hook', clock);
    await store.alerting.enqueue([row('a', { deadlineAt: T0 + 60 * M })]);
    await passAt(sender(channel), T0 + 61 * M);
    expect(channel.sent).toEqual([]);
    expect(await rows()).toMatchObject([{ state: 'dead' }]);
    expect((await rows())[0]!.lastError).toMatch(/deadline/);
  });

  it('keeps to a rate limit of 2 a minute: 2 of 5 go now, the rest as the window frees up', async () => {
    const channel = new ScriptedChannel('hook', clock);
    const s = sender(channel, 2);
    await store.alerting.enqueue(['a', 'b', 'c', 'd', 'e'].map((k) => row(k)));
    await passAt(s, T0);
    expect(channel.sent.map((x) => x.key)).toEqual(['a', 'b']);
    expect((await rows()).map((r) => [r.state, r.nextAttemptAt - T0])).toEqual([
      ['delivered', 0], ['delivered', 0], ['pending', 60_000], ['pending', 60_000], ['pending', 60_000],
    ]);
    await passAt(s, T0 + 59_999);
    expect(channel.sent).toHaveLength(2);
    await passAt(s, T0 + 60_000);
    await passAt(s, T0 + 120_000);
    expect(channel.sent.map((x) => [x.key, x.at - T0])).toEqual([['a', 0], ['b', 0], ['c', 60_000], ['d', 60_000], ['e', 120_000]]);
    // Waiting for the budget is not an attempt.
    expect((await rows()).map((r) => [r.state, r.attempts])).toEqual(Array.from({ length: 5 }, () => ['delivered', 1]));
    expect(await counter('bulwark_alert_notifications_total')).toEqual({ 'hook,delivered': 5, 'hook,rate_limited': 4 });
  });

  it('sends a row a crashed run left in sending once released at start, and counts it as a possible duplicate', async () => {
    const channel = new ScriptedChannel('hook', clock);
    await store.alerting.enqueue([row('a'), row('b')]);
    // The previous run claimed both and died before recording any outcome.
    expect(await store.alerting.claimOutbox(T0, 10, T0 + M)).toHaveLength(2);
    expect(await store.alerting.releaseClaims()).toBe(2);
    await passAt(sender(channel), T0 + S);
    expect(channel.sent.map((x) => x.key)).toEqual(['a', 'b']);
    expect((await rows()).map((r) => [r.state, r.attempts])).toEqual([['delivered', 2], ['delivered', 2]]);
    expect(await counter('bulwark_alert_notifications_resent_total')).toEqual({ hook: 2 });
  });

  it('counts a resend after a crash during a retry too', async () => {
    const channel = new ScriptedChannel('hook', clock, [fail(true)]);
    const s = sender(channel);
    await store.alerting.enqueue([row('a')]);
    await passAt(s, T0);
    // Second attempt claimed, then the daemon is killed mid-send.
    expect(await store.alerting.claimOutbox(T0 + 1_000, 10, T0 + M)).toHaveLength(1);
    await store.alerting.releaseClaims();
    await passAt(s, T0 + 2_000);
    expect(await rows()).toMatchObject([{ state: 'delivered', attempts: 3 }]);
    expect(await counter('bulwark_alert_notifications_resent_total')).toEqual({ hook: 1 });
  });

  it('counts a row released after a crash once, even when the rate limit holds it back first', async () => {
    const channel = new ScriptedChannel('hook', clock);
    const s = sender(channel, 1);
    await store.alerting.enqueue([row('a'), row('b')]);
    await store.alerting.claimOutbox(T0, 10, T0 + M);
    await store.alerting.releaseClaims();
    await passAt(s, T0);
    await passAt(s, T0 + M);
    expect(channel.sent.map((x) => x.key)).toEqual(['a', 'b']);
    expect((await rows()).map((r) => [r.state, r.attempts])).toEqual([['delivered', 2], ['delivered', 2]]);
    expect(await counter('bulwark_alert_notifications_resent_total')).toEqual({ hook: 2 });
  });

  it('takes over a claim whose lease expired, and counts it', async () => {
    const channel = new ScriptedChannel('hook', clock);
    const s = sender(channel);
    await store.alerting.enqueue([row('a')]);
    await store.alerting.claimOutbox(T0, 10, T0 + M);
    await passAt(s, T0 + M - 1);
    expect(channel.sent).toEqual([]);
    await passAt(s, T0 + M);
    expect(channel.sent.map((x) => x.key)).toEqual(['a']);
    expect(await counter('bulwark_alert_notifications_resent_total')).toEqual({ hook: 1 });
  });

  it('keeps its window full: a slow send holds one slot, not the rows behind it', async () => {
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const sent: string[] = [];
    const channel: Channel = {
      name: 'hook', type: 'webhook',
      async send(message) {
        sent.push(message.idempotencyKey);
        if (message.idempotencyKey === 'a') await slow;
        // 'a' is answered only once every other row has gone out through the other slot.
        if (sent.length === 5) release();
        return { ok: true };
      },
    };
    const s = new OutboxSender({
      store: store.alerting, channels: () => new Map([['hook', channel]]), rateLimits: () => new Map([['hook', 60]]),
      metrics, log: silentLogger(), now: clock.now, window: 2,
    });
    await store.alerting.enqueue(['a', 'b', 'c', 'd', 'e'].map((k) => row(k)));
    await passAt(s, T0);
    expect(sent).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect((await rows()).map((r) => r.state)).toEqual(Array.from({ length: 5 }, () => 'delivered'));
  });

  it('gives up a row whose channel is no longer configured', async () => {
    const channel = new ScriptedChannel('hook', clock);
    await store.alerting.enqueue([row('a', { channel: 'gone' })]);
    await passAt(sender(channel), T0);
    expect(await rows()).toMatchObject([{ state: 'dead', lastError: 'channel "gone" is no longer configured' }]);
  });
});
