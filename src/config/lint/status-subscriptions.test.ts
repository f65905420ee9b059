import { describe, expect, it } from 'vitest';
import { byRule, lintYaml } from './testing.js';

const BASE = `
services:
  api: { endpoints: [{ url: http://a:1 }] }
alerting:
  channels:
    subscribers: { email: { smtp: { host: smtp.example.com, from: status@example.com }, to: [ops@example.com] } }
    chat: { slack: { webhook_url: https://hooks.slack.com/services/x } }
`;

const page = (channel: string) => `status_page:\n  title: Acme\n  subscriptions: { email_channel: ${channel} }\n`;

describe('lint: status page subscriptions', () => {
  it('accepts an email channel', () => {
    expect(byRule(lintYaml(BASE + page('subscribers')), 'lint.status_email_channel')).toEqual([]);
  });

  it('refuses a channel that does not exist, with did-you-mean, and one that is not email', () => {
    const [missing] = byRule(lintYaml(BASE + page('subscriber')), 'lint.status_email_channel');
    expect(missing).toMatchObject({ severity: 'error', path: ['status_page', 'subscriptions', 'email_channel'] });
    expect(missing!.hint).toContain('subscribers');
    const [slack] = byRule(lintYaml(BASE + page('chat')), 'lint.status_email_channel');
    expect(slack!.message).toBe('status page subscriptions send email through chat, which is not an email channel');
  });

  it('warns that a configured status-subscribers channel is replaced', () => {
    const yaml = BASE.replace('    chat:', '    status-subscribers:') + page('subscribers');
    expect(byRule(lintYaml(yaml), 'lint.reserved_channel').map((f) => f.path.join('.'))).toEqual(['alerting.channels.status-subscribers']);
  });
});
