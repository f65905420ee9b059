import { afterEach, describe, expect, it } from 'vitest';
import { startReceiver, signal, testMessage, type Receiver } from './testing/receiver.js';
import { isPublicAddress, subscriberUrlProblem, subscriberWebhookChannel, verifySubscriberWebhook } from './subscriber-webhook.js';

let receiver: Receiver | undefined;
afterEach(async () => { await receiver?.close(); receiver = undefined; });

describe('status subscribers webhook channel', () => {
  it('refuses URLs that are not public, before any connection', () => {
    for (const url of ['http://127.0.0.1:8080/x', 'http://localhost/x', 'http://10.1.2.3/', 'http://192.168.1.1/', 'http://[::1]/', 'http://[fd00::1]/', 'http://169.254.169.254/latest', 'http://100.64.0.1/']) {
      expect(subscriberUrlProblem(url), url).toMatch(/public address|this machine|link-local/);
    }
    expect(subscriberUrlProblem('ftp://example.com/')).toBe('only http and https URLs are allowed, not ftp:');
    expect(subscriberUrlProblem('not a url')).toBe('the webhook URL is not a valid URL');
    expect(subscriberUrlProblem('https://hooks.example.com/status')).toBeUndefined();
    expect(isPublicAddress('93.184.216.34')).toBe(true);
    expect(isPublicAddress('::ffff:127.0.0.1')).toBe(false);
  });

  it('posts public wording to the URL the message names, with its idempotency key and without the URL in the body', async () => {
    receiver = await startReceiver();
    const channel = subscriberWebhookChannel({ allowPrivate: true, now: () => Date.UTC(2026, 0, 5) });
    const result = await channel.send(testMessage({ idempotencyKey: 'status-1-2-3', fields: { url: `${receiver.url}/hook`, component: 'api', status: 'Investigating' } }), signal());
    expect(result).toMatchObject({ ok: true });
    const [got] = receiver.received;
    expect(got!.path).toBe('/hook');
    expect(got!.headers['idempotency-key']).toBe('status-1-2-3');
    expect(JSON.parse(got!.body)).toMatchObject({ type: 'status.update', subject: 'api is down', fields: { component: 'api', status: 'Investigating' }, sent_at: '2026-01-05T00:00:00.000Z' });
    expect(got!.body).not.toContain('/hook');
  });

  it('does not deliver to a private receiver in production, and says why without retrying', async () => {
    receiver = await startReceiver();
    const result = await subscriberWebhookChannel().send(testMessage({ fields: { url: `${receiver.url}/hook` } }), signal());
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(receiver.received).toHaveLength(0);
  });

  it('verifies a webhook only when the answer echoes the challenge', async () => {
    receiver = await startReceiver((_req, res, body) => res.end(JSON.stringify({ challenge: (JSON.parse(body) as { challenge: string }).challenge })));
    expect(await verifySubscriberWebhook(`${receiver.url}/ok`, 'c-123', { allowPrivate: true })).toBeUndefined();
    receiver.handler = (_req, res) => res.end('ok');
    expect(await verifySubscriberWebhook(`${receiver.url}/ok`, 'c-456', { allowPrivate: true })).toMatch(/without echoing the challenge/);
    receiver.handler = (_req, res) => res.writeHead(302, { location: 'http://elsewhere/' }).end();
    expect(await verifySubscriberWebhook(`${receiver.url}/ok`, 'c-789', { allowPrivate: true })).toMatch(/answered 302.*redirects are not followed/);
    expect(await verifySubscriberWebhook(`${receiver.url}/ok`, 'c-789')).toMatch(/not a public address/);
  });
});
