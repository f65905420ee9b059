import Mustache from 'mustache';
import type { Channel, DeliveryResult, OutgoingMessage } from '../types.js';
import type { ChannelOptions, HttpChannelConfig } from './options.js';
import { errorText } from './redact.js';
import { mergeHeaders, safePost } from './safe-http.js';

/** The values an http channel's `body` template may use; `check` rejects any other. */
export const HTTP_TEMPLATE_VARIABLES = ['to', 'subject', 'text', 'severity', 'dedup_key', 'ack_url'] as const;
export type HttpTemplateView = Record<(typeof HTTP_TEMPLATE_VARIABLES)[number], string>;

/** Recipients already delivered to in this process, so a retry after a partial failure skips them. */
const DELIVERED_MEMORY = 1000;

/** A JSON string's content without its quotes, so `"{{text}}"` stays one valid JSON string. */
function jsonEscape(value: unknown): string {
  return JSON.stringify(String(value)).slice(1, -1);
}

function escaperFor(contentType: string): (value: unknown) => string {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) return jsonEscape;
  // A form body is the other common provider format; an unescaped & or + would change its fields.
  if (type === 'application/x-www-form-urlencoded') return (v) => encodeURIComponent(String(v));
  return (v) => String(v);
}

export function renderHttpBody(template: string, contentType: string, view: HttpTemplateView): string {
  return Mustache.render(template, view, undefined, { escape: escaperFor(contentType) });
}

function viewFor(message: OutgoingMessage, to: string): HttpTemplateView {
  return { to, subject: message.subject, text: message.text, severity: message.severity, dedup_key: message.dedupKey, ack_url: message.links.acknowledge ?? '' };
}

function combine(results: Array<{ to: string; result: DeliveryResult }>): DeliveryResult {
  const failed = results.flatMap(({ to, result }) => (result.ok ? [] : [{ to, result }]));
  if (failed.length === 0) return { ok: true, detail: `delivered to ${results.length} recipient${results.length === 1 ? '' : 's'}` };
  const retryable = failed.some((f) => f.result.retryable);
  const error = failed.map((f) => `to ${f.to}: ${f.result.error}`).join('; ');
  const waits = failed.flatMap((f) => (f.result.retryAfterMs === undefined ? [] : [f.result.retryAfterMs]));
  return waits.length > 0 ? { ok: false, retryable, error, retryAfterMs: Math.max(...waits) } : { ok: false, retryable, error };
}

class HttpChannel implements Channel {
  readonly type = 'http';
  private readonly delivered = new Set<string>();

  constructor(readonly name: string, private readonly config: HttpChannelConfig, private readonly options: ChannelOptions) {}

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<DeliveryResult> {
    const recipients = message.to && message.to.length > 0 ? message.to : this.config.to;
    if (recipients.length === 0) return { ok: false, retryable: false, error: `channel ${this.name} has no recipients: set \`to\` or reach it through a person` };
    const results = await Promise.all(recipients.map(async (to) => ({ to, result: await this.sendOne(message, to, signal) })));
    return combine(results);
  }

  private async sendOne(message: OutgoingMessage, to: string, signal: AbortSignal): Promise<DeliveryResult> {
    const key = `${message.idempotencyKey}:${to}`;
    if (this.delivered.has(key)) return { ok: true, detail: 'delivered before' };
    const { config } = this;
    let body: string;
    try {
      body = renderHttpBody(config.body, config.content_type, viewFor(message, to));
    } catch (err) {
      return { ok: false, retryable: false, error: `channel ${this.name}'s body template does not render: ${errorText(err)}` };
    }
    // Provider headers (auth, a provider's own idempotency header) win over ours.
    const headers = mergeHeaders({ 'content-type': config.content_type, 'idempotency-key': key }, config.headers);
    const result = await safePost({ url: config.url, method: config.method, body, headers, signal, timeoutMs: this.options.timeoutMs, secrets: Object.values(config.headers) });
    if (result.ok) this.remember(key);
    return result;
  }

  private remember(key: string): void {
    this.delivered.add(key);
    if (this.delivered.size > DELIVERED_MEMORY) this.delivered.delete(this.delivered.values().next().value!);
  }
}

/** SMS or phone through a provider's HTTP API: one request per recipient, the body rendered from a template. */
export function httpChannel(name: string, config: HttpChannelConfig, options: ChannelOptions = {}): Channel {
  return new HttpChannel(name, config, options);
}
