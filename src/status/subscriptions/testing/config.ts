import type { BulwarkConfig } from '../../../config/index.js';

const H = 3_600_000;

/** The little of a configuration the subscription code reads: two services, a status page and an email channel named `mail`. */
export function testConfig(overrides: { email_channel?: string | undefined; webhooks?: boolean } = {}): BulwarkConfig {
  return {
    services: { api: {}, web: {} }, databases: {},
    status_page: { title: 'Acme <Status>', subscriptions: { email_channel: 'mail', webhooks: true, confirm_within: 48 * H, ...overrides } },
    alerting: { channels: { mail: { email: {}, deadline: H, rate_limit: 60 } } },
  } as unknown as BulwarkConfig;
}
