import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Channel, OutgoingMessage } from '../types.js';
import type { ChannelOptions, WebhookConfig } from './options.js';
import { mergeHeaders, safePost } from './safe-http.js';

/**
 * Generic signed webhook.
 *
 * Every request carries `X-Bulwark-Timestamp` (unix seconds) and, when the
 * channel has a `secret`, `X-Bulwark-Signature: sha256=<hex>`, the HMAC-SHA256
 * under the secret of `<timestamp>.<raw body>`. A receiver verifies it with
 * `verifyWebhookSignature` or the same steps in any language:
 *   1. take the raw body bytes as received (before any JSON parsing);
 *   2. reject when the timestamp is more than 5 minutes from its clock (replays);
 *   3. compute HMAC-SHA256(secret, timestamp + "." + body) and compare it in
 *      constant time with the hex after `sha256=`.
 * `Idempotency-Key` is the same for every retry of one notification: a
 * receiver that has seen it drops the repeat.
 */

export interface WebhookPayload {
  kind: OutgoingMessage['kind'];
  incident_id: number | null;
  dedup_key: string;
  severity: OutgoingMessage['severity'];
  subject: string;
  text: string;
  links: OutgoingMessage['links'];
  fields: Record<string, string>;
  sent_at: string;
}

export function webhookPayload(message: OutgoingMessage, sentAtMs: number): WebhookPayload {
  return {
    kind: message.kind,
    incident_id: message.incidentId,
    dedup_key: message.dedupKey,
    severity: message.severity,
    subject: message.subject,
    text: message.text,
    links: message.links,
    fields: message.fields,
    sent_at: new Date(sentAtMs).toISOString(),
  };
}

export function signWebhook(secret: string, timestamp: string | number, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

/** True when `signature` is `body`'s signature under `secret` and `timestamp` is within `toleranceSec` of now. */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | number,
  body: string | Buffer,
  signature: string,
  toleranceSec = 300,
  nowMs = Date.now(),
): boolean {
  const ts = String(timestamp).trim();
  if (!/^\d{1,12}$/.test(ts) || Math.abs(nowMs / 1000 - Number(ts)) > toleranceSec) return false;
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(signature.trim());
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(`${ts}.`).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(match[1]!, 'hex'));
}

export function webhookChannel(name: string, config: WebhookConfig, options: ChannelOptions = {}): Channel {
  const now = options.now ?? Date.now;
  return {
    name,
    type: 'webhook',
    async send(message, signal) {
      const sentAtMs = now();
      const timestamp = Math.floor(sentAtMs / 1000);
      const body = JSON.stringify(webhookPayload(message, sentAtMs));
      const ours: Record<string, string> = {
        'content-type': 'application/json',
        'idempotency-key': message.idempotencyKey,
        'x-bulwark-timestamp': String(timestamp),
      };
      if (config.secret !== undefined) ours['x-bulwark-signature'] = signWebhook(config.secret, timestamp, body);
      // Configured headers come first so that they cannot replace the signature or the key.
      const headers = mergeHeaders(config.headers, ours);
      return safePost({ url: config.url, body, headers, signal, timeoutMs: options.timeoutMs, secrets: [config.secret, ...Object.values(config.headers)] });
    },
  };
}
