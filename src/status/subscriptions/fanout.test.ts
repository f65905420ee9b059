import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { subscriberWebhookChannel } from '../../alerting/channels/subscriber-webhook.js';
import { verifyWebhookSignature } from '../../alerting/channels/webhook.js';
import { newSubscriptionKey, SUBSCRIPTION_KEY_SETTING, webhookSecret } from './tokens.js';
import { startReceiver } from '../../alerting/channels/testing/receiver.js';
import type { OutgoingMessage } from '../../alerting/index.js';
import { silentLogger } from '../../core/logger.js';
import { openSqliteStore, type Store } from '../../store/index.js';
import { FANOUT_CURSOR, SubscriptionFanout } from './fanout.js';
import { testConfig } from './testing/config.js';

const T0 = Date.UTC(2026, 0, 5, 10);
let dir: string;
let store: Store;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulwark-fanout-'));
  store = await openSqliteStore({ path: join(dir, 'b.db') });
  await store.migrate();
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function subscriber(kind: 'email' | 'webhook', address: string, components: string[], confirmedAt: number | null): Promise<number> {
  const { subscriber: s } = await store.statusSubscribers.subscribe({ kind, address, components, createdAt: T0 - 1000 }, { pendingExpiredBefore: 0 });
  if (confirmedAt !== null) await store.statusSubscribers.confirm(s.id, confirmedAt);
  return s.id;
}

async function incident(service: string, title: string): Promise<number> {
  const { incident: i } = await store.alerting.openIncident(
    { key: `down:${service}`, rule: 'down', severity: 'critical', title, policy: null, labels: { service }, alerts: [`service/${service}`], openedAt: T0, nextAt: null, reminderAt: null },
    { kind: 'opened', actor: 'bulwark', at: T0, data: { summary: `${title} (10.0.0.7:8080 ECONNREFUSED)` } }, () => [],
  );
  return i.id;
}

function fanout() {
  return new SubscriptionFanout({ store, config: () => testConfig(), log: silentLogger(), baseUrl: () => 'http://status.test', now: () => T0 });
}

describe('subscription fan-out', () => {
  it('queues each public update once per interested confirmed subscriber, across restarts and a lost cursor', async () => {
    const ann = await subscriber('email', 'ann@example.com', [], T0 - 500);
    const bob = await subscriber('email', 'bob@example.com', ['web'], T0 - 500);
    await subscriber('email', 'pending@example.com', [], null);
    const hook = await subscriber('webhook', 'https://hooks.example.com/s', ['api'], T0 - 500);
    const api = await incident('api', 'api: 10.0.0.7:8080 refuses connections');
    await store.alerting.updateIncident(api, { state: 'acknowledged' }, [
      { kind: 'acknowledged', actor: 'ops', at: T0 + 1 },
      { kind: 'note', actor: 'ops', at: T0 + 2, data: { text: 'internal: restarted pod on host-7' } },
      { kind: 'note', actor: 'ops', at: T0 + 3, data: { text: 'A fix is being rolled out.', public: true } },
    ], []);

    expect(await fanout().pass()).toBe(6);
    const rows = await store.alerting.listOutbox({ limit: 100 });
    const keys = rows.map((r) => r.idempotencyKey).sort();
    const events = (await store.alerting.incidentEvents(api)).map((e) => e.id);
    const expected = [events[0], events[1], events[3]].flatMap((e) => [ann, hook].map((s) => `status-${api}-${e}-${s}`)).sort();
    expect(keys).toEqual(expected);
    expect(keys.some((k) => k.endsWith(`-${bob}`))).toBe(false);

    const byKey = new Map(rows.map((r) => [r.idempotencyKey, r]));
    const opened = byKey.get(`status-${api}-${events[0]}-${ann}`)!;
    expect(opened.channel).toBe('mail');
    const mail = opened.message as { subject: string; text: string; to: string[]; headers: Record<string, string> };
    expect(mail.subject).toBe('[Acme <Status>] Outage of api: Investigating');
    expect(mail.to).toEqual(['ann@example.com']);
    expect(mail.text).toContain('http://status.test/incidents/');
    expect(mail.headers['List-Unsubscribe']).toMatch(/^<http:\/\/status\.test\/unsubscribe\?token=/);
    const note = byKey.get(`status-${api}-${events[3]}-${hook}`)!;
    expect(note.channel).toBe('status-subscribers');
    expect((note.message as { fields: Record<string, string> }).fields).toMatchObject({ url: 'https://hooks.example.com/s', status: 'update', body: 'A fix is being rolled out.' });
    for (const r of rows) expect(JSON.stringify(r.message)).not.toMatch(/10\.0\.0\.7|host-7|refuses connections|ECONNREFUSED/);

    expect(await fanout().pass()).toBe(0);
    await store.statusSubscribers.setCursor(FANOUT_CURSOR, 0);
    expect(await fanout().pass()).toBe(0);
    expect(await store.alerting.listOutbox({ limit: 100 })).toHaveLength(6);

    await store.alerting.updateIncident(api, { state: 'resolved' }, [{ kind: 'resolved', actor: 'bulwark', at: T0 + 4 }], []);
    await store.statusSubscribers.unsubscribe(ann, T0 + 4);
    expect(await fanout().pass()).toBe(1);
  });

  it('tells nobody of what happened before they confirmed, nor of components off the page', async () => {
    await subscriber('email', 'late@example.com', [], T0 + 10);
    await incident('api', 'x');
    await incident('nosuch', 'y');
    expect(await fanout().pass()).toBe(0);
    expect(await store.statusSubscribers.cursor(FANOUT_CURSOR)).toBe(2);
  });
});

describe('subscription fan-out through the webhook channel', () => {
  it('delivers a queued update to the subscriber\'s URL with its unsubscribe link and no internal words', async () => {
    const receiver = await startReceiver();
    try {
      await subscriber('webhook', `${receiver.url}/hook`, [], T0 - 500);
      await incident('api', 'api: 10.0.0.7:8080 refuses connections');
      await fanout().pass();
      const [row] = await store.alerting.listOutbox({ limit: 10 });
      const result = await subscriberWebhookChannel({ allowPrivate: true }).send(row!.message as OutgoingMessage, new AbortController().signal);
      expect(result).toMatchObject({ ok: true });
      const body = JSON.parse(receiver.received[0]!.body) as { subject: string; fields: Record<string, string> };
      expect(body.subject).toBe('[Acme <Status>] Outage of api: Investigating');
      expect(body.fields).toMatchObject({ status: 'investigating', components: 'api', body: 'We are investigating a disruption of api.' });
      expect(body.fields.unsubscribe).toMatch(/^http:\/\/status\.test\/unsubscribe\?token=1\./);
      const got = receiver.received[0]!;
      expect(got.headers['idempotency-key']).toBe(row!.idempotencyKey);
      const secret = webhookSecret(await store.alerting.setting(SUBSCRIPTION_KEY_SETTING, newSubscriptionKey), 1);
      expect(verifyWebhookSignature(secret, String(got.headers['x-bulwark-timestamp']), got.body, String(got.headers['x-bulwark-signature']))).toBe(true);
      expect(got.body).not.toContain(secret);
      expect(receiver.received[0]!.body).not.toMatch(/10\.0\.0\.7|refuses|\/hook/);
    } finally {
      await receiver.close();
    }
  });
});
