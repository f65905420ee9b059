import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type Store } from '../../store/index.js';
import { startReceiver, type Receiver } from '../../alerting/channels/testing/receiver.js';
import { subscriptionRoutes } from './routes.js';
import { testConfig } from './testing/config.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 10);

let dir: string;
let store: Store;
let now: number;
let receiver: Receiver | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulwark-subs-'));
  store = await openSqliteStore({ path: join(dir, 'b.db') });
  await store.migrate();
  now = T0;
});
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function app(config = testConfig()) {
  return subscriptionRoutes({ store, config: () => config, now: () => now, webhook: { allowPrivate: true, timeoutMs: 2_000 }, clientAddress: () => '1.2.3.4', subscribesPerMinute: 100 });
}

const form = (fields: Record<string, string | string[]>) => {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
  return { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
};

async function confirmLink(): Promise<{ token: string; message: { subject: string; to: string[]; text: string; headers: Record<string, string> } }> {
  const [row] = await store.alerting.listOutbox({ limit: 10 });
  const message = row!.message as { subject: string; to: string[]; text: string; headers: Record<string, string> };
  const token = decodeURIComponent(/confirm\?token=(\S+)/.exec(message.text)![1]!);
  return { token, message };
}

describe('subscription routes', () => {
  it('subscribes by email: one confirmation email queued; GET of the link changes nothing, POST confirms', async () => {
    const a = app();
    const res = await a.request('http://status.test/subscribe', form({ email: ' Ann@Example.com ', components: ['api'] }));
    expect(res.status).toBe(202);
    expect(await res.text()).toContain('Check your inbox');
    const rows = await store.alerting.listOutbox({ limit: 10 });
    expect(rows.map((r) => [r.idempotencyKey, r.channel, r.kind])).toEqual([[`status-confirm-1`, 'mail', 'status_confirm']]);
    const { token, message } = await confirmLink();
    expect(message.subject).toBe('Confirm your subscription to Acme <Status> status updates');
    expect(message.to).toEqual(['ann@example.com']);
    expect(message.text).toContain('http://status.test/subscribe/confirm?token=');

    const get = await a.request(`http://status.test/subscribe/confirm?token=${encodeURIComponent(token)}`);
    expect(get.status).toBe(200);
    expect(get.headers.get('cache-control')).toBe('no-store');
    const page = await get.text();
    expect(page).toContain('<form method="post" action="/subscribe/confirm">');
    expect(page).toContain('Acme &lt;Status&gt;');
    expect((await store.statusSubscribers.subscriber(1))?.confirmedAt).toBeNull();

    now = T0 + H;
    const post = await a.request('http://status.test/subscribe/confirm', form({ token }));
    expect(post.status).toBe(200);
    expect((await store.statusSubscribers.confirmedSubscribers()).map((s) => [s.address, s.components, s.confirmedAt])).toEqual([['ann@example.com', ['api'], T0 + H]]);
  });

  it('refuses bad tokens and expired confirmations', async () => {
    const a = app();
    for (const token of ['', 'nope', '1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
      expect((await a.request(`http://status.test/subscribe/confirm?token=${token}`)).status).toBe(403);
      expect((await a.request('http://status.test/subscribe/confirm', form({ token }))).status).toBe(403);
      expect((await a.request(`http://status.test/unsubscribe?token=${token}`, { method: 'POST' })).status).toBe(403);
    }
    await a.request('http://status.test/subscribe', form({ email: 'bob@example.com' }));
    const { token } = await confirmLink();
    now = T0 + 49 * H;
    const late = await a.request('http://status.test/subscribe/confirm', form({ token }));
    expect(late.status).toBe(410);
    expect(await late.text()).toContain('expired');
    expect(await store.statusSubscribers.confirmedSubscribers()).toEqual([]);
  });

  it('unsubscribes with the RFC 8058 one-click POST from the List-Unsubscribe header', async () => {
    const a = app();
    await a.request('http://status.test/subscribe', form({ email: 'cy@example.com' }));
    const { token, message } = await confirmLink();
    await a.request('http://status.test/subscribe/confirm', form({ token }));
    expect(message.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const url = /^<(.+)>$/.exec(message.headers['List-Unsubscribe']!)![1]!;
    expect(url).toMatch(/^http:\/\/status\.test\/unsubscribe\?token=/);
    const get = await a.request(url);
    expect(await get.text()).toContain('Unsubscribe</button>');
    expect(await store.statusSubscribers.confirmedSubscribers()).toHaveLength(1);
    const res = await a.request(url, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(200);
    expect(await store.statusSubscribers.confirmedSubscribers()).toEqual([]);
  });

  it('refuses invalid addresses, unknown components and both or neither, saying why', async () => {
    const a = app();
    const cases: Array<[Record<string, string | string[]>, number, string]> = [
      [{ email: 'not-an-address' }, 400, 'is not an email address'],
      [{ email: 'a@b.c\r\nBcc: x@y.z' }, 400, 'is not an email address'],
      [{ webhook: 'ftp://example.com/x' }, 400, 'only http and https URLs are allowed'],
      [{ webhook: 'http://10.0.0.1/hook' }, 400, 'not a public address'],
      [{}, 400, 'either an email address or a webhook URL'],
      [{ email: 'a@example.com', webhook: 'https://example.com/' }, 400, 'either an email address or a webhook URL'],
      [{ email: 'a@example.com', components: 'nosuch' }, 400, 'no component &quot;nosuch&quot;'],
    ];
    const strict = subscriptionRoutes({ store, config: () => testConfig(), now: () => now, clientAddress: () => 'x', subscribesPerMinute: 100 });
    for (const [fields, status, text] of cases) {
      const res = await strict.request('http://status.test/subscribe', form(fields));
      expect(res.status, JSON.stringify(fields)).toBe(status);
      expect(await res.text(), JSON.stringify(fields)).toContain(text);
    }
    expect(await store.alerting.listOutbox({ limit: 10 })).toEqual([]);
    const off = await app(testConfig({ email_channel: undefined })).request('http://status.test/subscribe', form({ email: 'a@example.com' }));
    expect(off.status).toBe(503);
    expect((await a.request('http://status.test/subscribe', { method: 'POST', body: 'x'.repeat(10_000), headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(400);
  });

  it('queues one confirmation for a duplicate subscription and answers the same', async () => {
    const a = app();
    const first = await a.request('http://status.test/subscribe', form({ email: 'dee@example.com' }));
    const second = await a.request('http://status.test/subscribe', form({ email: 'DEE@example.com' }));
    expect(second.status).toBe(first.status);
    expect(await second.text()).toBe(await first.text());
    expect(await store.alerting.listOutbox({ limit: 10 })).toHaveLength(1);
  });

  it('subscribes a webhook that echoes the challenge, refuses one that does not, and rate limits subscribing', async () => {
    receiver = await startReceiver((_req, res, body) => res.end(body));
    const a = app();
    const ok = await a.request('http://status.test/subscribe', form({ webhook: `${receiver.url}/hook` }));
    expect(ok.status).toBe(200);
    const okPage = await ok.text();
    expect(okPage).toContain('http://status.test/unsubscribe?token=');
    expect(okPage).toMatch(/the secret, shown only now: whsec_[A-Za-z0-9_-]{43}\./);
    expect((await store.statusSubscribers.confirmedSubscribers()).map((s) => [s.kind, s.address])).toEqual([['webhook', `${receiver.url}/hook`]]);
    expect((await a.request('http://status.test/subscribe', form({ webhook: `${receiver.url}/hook` }))).status).toBe(409);
    receiver.handler = (_req, res) => res.end('ok');
    const refused = await a.request('http://status.test/subscribe', form({ webhook: `${receiver.url}/other` }));
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('without echoing the challenge');

    const limited = subscriptionRoutes({ store, config: () => testConfig(), now: () => now, clientAddress: () => 'same', subscribesPerMinute: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await limited.request('http://status.test/subscribe', form({ email: `p${i}@example.com` }))).status);
    expect(statuses).toEqual([202, 202, 429]);
  });
});

describe('subscribe form', () => {
  it('offers what is configured, and points at the feeds when nothing is', async () => {
    const both = await (await app().request('http://status.test/subscribe')).text();
    expect(both).toContain('name="email"');
    expect(both).toContain('name="webhook"');
    expect(both).toContain('value="api"');
    const none = await (await app(testConfig({ email_channel: undefined, webhooks: false })).request('http://status.test/subscribe')).text();
    expect(none).not.toContain('<form');
    expect(none).toContain('href="/history.rss"');
  });
});
