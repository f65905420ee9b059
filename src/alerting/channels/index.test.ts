import { describe, expect, it } from 'vitest';
import type { AlertChannelConfig } from '../../config/index.js';
import { channelType, createChannel } from './index.js';

const limits = { rate_limit: 60, deadline: 3_600_000 };

describe('createChannel', () => {
  it('builds the channel the configuration names', () => {
    const configs: AlertChannelConfig[] = [
      { ...limits, webhook: { url: 'http://127.0.0.1:1/', headers: {} } },
      { ...limits, slack: { webhook_url: 'https://hooks.example.com/x' } },
      { ...limits, pagerduty: { routing_key: 'k', url: 'https://events.pagerduty.com/v2/enqueue' } },
      { ...limits, http: { url: 'https://sms.example.com/', method: 'POST', headers: {}, content_type: 'application/json', body: '{}', to: [] } },
      { ...limits, email: { smtp: { host: 'smtp.example.com', port: 587, from: 'a@example.com', starttls: true, tls: false }, to: ['b@example.com'] } },
    ];
    expect(configs.map((c, i) => createChannel(`c${i}`, c)).map((ch) => [ch.name, ch.type])).toEqual([
      ['c0', 'webhook'], ['c1', 'slack'], ['c2', 'pagerduty'], ['c3', 'http'], ['c4', 'email'],
    ]);
  });

  it('throws on a configuration with no channel type or two', () => {
    expect(() => channelType({ ...limits })).toThrow(/exactly one of webhook, email, slack, pagerduty, http; got none/);
    expect(() => channelType({ ...limits, slack: { webhook_url: 'https://a/' }, webhook: { url: 'https://b/', headers: {} } })).toThrow(/got webhook and slack/);
  });
});
