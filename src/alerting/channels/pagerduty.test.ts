import { afterEach, describe, expect, it } from 'vitest';
import { pagerDutyChannel } from './pagerduty.js';
import { signal, startReceiver, testMessage, type Receiver } from './testing/receiver.js';

const KEY = 'R0UTINGKEY0123456789abcdef012345';
let receiver: Receiver;
afterEach(() => receiver?.close());

const accepted = (): Promise<Receiver> => startReceiver((_req, res) => {
  res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"success","message":"Event processed","dedup_key":"service_down:api"}');
});

describe('pagerduty channel', () => {
  it('triggers with the Events API v2 payload and accepts 202', async () => {
    receiver = await accepted();
    const channel = pagerDutyChannel('pd', { routing_key: KEY, url: `${receiver.url}/v2/enqueue` });
    expect(await channel.send(testMessage({ kind: 'escalate', severity: 'warning', links: { acknowledge: 'https://b/ack', view: 'https://b/i/42' } }), signal())).toMatchObject({ ok: true });
    expect(receiver.received[0]!.path).toBe('/v2/enqueue');
    expect(JSON.parse(receiver.received[0]!.body)).toEqual({
      routing_key: KEY,
      event_action: 'trigger',
      dedup_key: 'service_down:api',
      payload: { summary: 'api is down', source: 'bulwark', severity: 'warning', custom_details: { service: 'api', status: 'down' } },
      links: [{ href: 'https://b/ack', text: 'Acknowledge in Bulwark' }, { href: 'https://b/i/42', text: 'View in Bulwark' }],
    });
  });

  it('acknowledges and resolves by dedup key without a payload', async () => {
    receiver = await accepted();
    const channel = pagerDutyChannel('pd', { routing_key: KEY, url: receiver.url });
    await channel.send(testMessage({ kind: 'acknowledge' }), signal());
    await channel.send(testMessage({ kind: 'resolve' }), signal());
    expect(receiver.received.map((r) => JSON.parse(r.body))).toEqual([
      { routing_key: KEY, event_action: 'acknowledge', dedup_key: 'service_down:api' },
      { routing_key: KEY, event_action: 'resolve', dedup_key: 'service_down:api' },
    ]);
  });

  it('cuts the summary at 1024 characters', async () => {
    receiver = await accepted();
    await pagerDutyChannel('pd', { routing_key: KEY, url: receiver.url }).send(testMessage({ subject: 's'.repeat(2000) }), signal());
    const summary = (JSON.parse(receiver.received[0]!.body) as { payload: { summary: string } }).payload.summary;
    expect(summary).toHaveLength(1024);
    expect(summary.endsWith('…')).toBe(true);
  });

  it('does not page for a review reminder or a daily summary', async () => {
    receiver = await accepted();
    const channel = pagerDutyChannel('pd', { routing_key: KEY, url: receiver.url });
    expect(await channel.send(testMessage({ kind: 'review_due' }), signal())).toMatchObject({ ok: true, detail: expect.stringContaining('not sent') });
    expect(receiver.received).toHaveLength(0);
  });

  it('retries 429 after its Retry-After, and keeps the routing key out of a 400', async () => {
    receiver = await startReceiver((_req, res) => res.writeHead(429, { 'retry-after': '30' }).end());
    const channel = pagerDutyChannel('pd', { routing_key: KEY, url: receiver.url });
    expect(await channel.send(testMessage(), signal())).toMatchObject({ ok: false, retryable: true, retryAfterMs: 30_000 });
    receiver.handler = (_req, res) => { res.statusCode = 400; res.end(`{"status":"invalid event","errors":["bad routing key ${KEY}"]}`); };
    const result = await channel.send(testMessage(), signal());
    expect(result).toMatchObject({ ok: false, retryable: false });
    if (!result.ok) {
      expect(result.error).toContain('invalid event');
      expect(result.error).not.toContain(KEY);
    }
  });
});
