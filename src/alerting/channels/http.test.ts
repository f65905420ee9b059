import { afterEach, describe, expect, it } from 'vitest';
import { httpChannel, renderHttpBody } from './http.js';
import type { HttpChannelConfig } from './options.js';
import { signal, startReceiver, testMessage, type Receiver } from './testing/receiver.js';

let receiver: Receiver;
afterEach(() => receiver?.close());

const jsonConfig = (url: string, extra: Partial<HttpChannelConfig> = {}): HttpChannelConfig => ({
  url,
  method: 'POST',
  headers: { Authorization: 'Basic c21zOnRva2Vu' },
  content_type: 'application/json',
  body: '{"to":"{{to}}","message":"{{subject}}: {{text}}","severity":"{{severity}}","key":"{{dedup_key}}","ack":"{{ack_url}}"}',
  to: ['+4915111111111', '+4915122222222'],
  ...extra,
});

describe('http (SMS) channel', () => {
  it('renders the template once per recipient, JSON-escaped', async () => {
    receiver = await startReceiver();
    const channel = httpChannel('sms', jsonConfig(`${receiver.url}/send`));
    const message = testMessage({ subject: 'api "down"', text: 'line 1\nline 2 \\ end' });
    expect(await channel.send(message, signal())).toEqual({ ok: true, detail: 'delivered to 2 recipients' });
    const bodies = receiver.received.map((r) => JSON.parse(r.body) as Record<string, string>).sort((a, b) => a.to!.localeCompare(b.to!));
    expect(bodies).toEqual(['+4915111111111', '+4915122222222'].map((to) => ({
      to,
      message: 'api "down": line 1\nline 2 \\ end',
      severity: 'critical',
      key: 'service_down:api',
      ack: 'https://bulwark.example/ack?t=abc',
    })));
    expect(receiver.received[0]!.headers).toMatchObject({ authorization: 'Basic c21zOnRva2Vu', 'content-type': 'application/json' });
    expect(receiver.received.map((r) => r.headers['idempotency-key']).sort()).toEqual([
      'incident-42-step-1-oncall:+4915111111111', 'incident-42-step-1-oncall:+4915122222222',
    ]);
  });

  it('sends to the message\'s recipients when it names them, with the configured method', async () => {
    receiver = await startReceiver();
    await httpChannel('sms', jsonConfig(receiver.url, { method: 'PUT' })).send(testMessage({ to: ['+15550001'] }), signal());
    expect(receiver.received.map((r) => [r.method, (JSON.parse(r.body) as { to: string }).to])).toEqual([['PUT', '+15550001']]);
  });

  it('escapes nothing for text bodies and URL-encodes form bodies', () => {
    const view = { to: '+1 555', subject: 's&t', text: 'a "b" <c>', severity: 'info', dedup_key: 'k', ack_url: '' };
    expect(renderHttpBody('{{to}}|{{text}}', 'text/plain', view)).toBe('+1 555|a "b" <c>');
    expect(renderHttpBody('To={{to}}&Body={{subject}}', 'application/x-www-form-urlencoded', view)).toBe('To=%2B1%20555&Body=s%26t');
  });

  it('fails when any recipient fails: retryable if any is, naming the recipient; a retry skips who already got it', async () => {
    let failWith = 500;
    receiver = await startReceiver((_req, res, body) => {
      res.statusCode = body.includes('+4915122222222') ? failWith : 200;
      res.end(res.statusCode === 200 ? 'queued' : 'provider error');
    });
    const channel = httpChannel('sms', jsonConfig(receiver.url));
    const first = await channel.send(testMessage(), signal());
    expect(first).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('to +4915122222222: ') });
    failWith = 200;
    expect(await channel.send(testMessage(), signal())).toMatchObject({ ok: true });
    expect(receiver.received.filter((r) => r.body.includes('+4915111111111'))).toHaveLength(1);
    failWith = 400;
    expect(await channel.send(testMessage({ idempotencyKey: 'another' }), signal())).toMatchObject({ ok: false, retryable: false });
  });

  it('reports a template that does not parse instead of throwing', async () => {
    const result = await httpChannel('sms', jsonConfig('http://127.0.0.1:1', { body: '{"to":"{{to"}' })).send(testMessage(), signal());
    expect(result).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('does not render') });
  });

  it('refuses to send with no recipients', async () => {
    const result = await httpChannel('sms', jsonConfig('http://127.0.0.1:1', { to: [] })).send(testMessage(), signal());
    expect(result).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('no recipients') });
  });
});
