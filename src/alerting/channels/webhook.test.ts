import { afterEach, describe, expect, it } from 'vitest';
import { signal, startReceiver, testMessage, type Receiver } from './testing/receiver.js';
import { signWebhook, verifyWebhookSignature, webhookChannel } from './webhook.js';

const NOW = Date.UTC(2026, 11, 7, 10, 0, 0);
let receiver: Receiver;
afterEach(() => receiver?.close());

describe('webhook channel', () => {
  it('posts the exact payload, signed, with the idempotency key and the configured headers', async () => {
    receiver = await startReceiver();
    const channel = webhookChannel('hooks', { url: `${receiver.url}/in`, headers: { Authorization: 'Bearer tok-123' }, secret: 'whsec-abc' }, { now: () => NOW });
    expect(await channel.send(testMessage(), signal())).toMatchObject({ ok: true });
    const [req] = receiver.received;
    expect(JSON.parse(req!.body)).toEqual({
      kind: 'trigger',
      incident_id: 42,
      dedup_key: 'service_down:api',
      severity: 'critical',
      subject: 'api is down',
      text: 'all 3 endpoints failing since 10:00 UTC',
      links: { acknowledge: 'https://bulwark.example/ack?t=abc', resolve: 'https://bulwark.example/resolve?t=abc' },
      fields: { service: 'api', status: 'down' },
      sent_at: '2026-12-07T10:00:00.000Z',
    });
    expect(req!.headers).toMatchObject({
      'content-type': 'application/json',
      'idempotency-key': 'incident-42-step-1-oncall',
      'x-bulwark-timestamp': String(NOW / 1000),
      authorization: 'Bearer tok-123',
    });
    const sig = req!.headers['x-bulwark-signature'] as string;
    expect(verifyWebhookSignature('whsec-abc', req!.headers['x-bulwark-timestamp'] as string, req!.body, sig, 300, NOW)).toBe(true);
  });

  it('does not let a configured header replace the signature, and sends none without a secret', async () => {
    receiver = await startReceiver();
    await webhookChannel('a', { url: receiver.url, headers: { 'X-Bulwark-Signature': 'forged' }, secret: 's3cr3t' }).send(testMessage(), signal());
    await webhookChannel('b', { url: receiver.url, headers: {} }).send(testMessage(), signal());
    expect(receiver.received[0]!.headers['x-bulwark-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(receiver.received[1]!.headers['x-bulwark-signature']).toBeUndefined();
  });

  it('reports a receiver error without the secret or the auth header in it', async () => {
    receiver = await startReceiver((req, res) => { res.statusCode = 401; res.end(`bad token ${req.headers.authorization} / whsec-abc`); });
    const result = await webhookChannel('h', { url: receiver.url, headers: { Authorization: 'Bearer tok-123' }, secret: 'whsec-abc' }).send(testMessage(), signal());
    expect(result).toMatchObject({ ok: false, retryable: false });
    if (!result.ok) {
      expect(result.error).toContain('401');
      expect(result.error).not.toContain('tok-123');
      expect(result.error).not.toContain('whsec-abc');
    }
  });
});

describe('verifyWebhookSignature', () => {
  const ts = NOW / 1000;
  const body = '{"kind":"trigger"}';
  const sig = signWebhook('key', ts, body);

  it('accepts the signature within the tolerance', () => {
    expect(verifyWebhookSignature('key', ts, Buffer.from(body), sig, 300, NOW + 299_000)).toBe(true);
  });

  it('rejects another body, another key, an old timestamp and malformed signatures', () => {
    expect(verifyWebhookSignature('key', ts, body + ' ', sig, 300, NOW)).toBe(false);
    expect(verifyWebhookSignature('other', ts, body, sig, 300, NOW)).toBe(false);
    expect(verifyWebhookSignature('key', ts, body, sig, 300, NOW + 301_000)).toBe(false);
    expect(verifyWebhookSignature('key', ts + 1, body, sig, 300, NOW)).toBe(false);
    expect(verifyWebhookSignature('key', ts, body, sig.slice(0, -2), 300, NOW)).toBe(false);
    expect(verifyWebhookSignature('key', 'soon', body, sig, 300, NOW)).toBe(false);
  });
});
