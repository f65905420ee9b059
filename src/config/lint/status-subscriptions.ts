import type { Finding } from '../diagnostics.js';
import type { BulwarkConfig } from '../schema.js';
import { didYouMean } from '../suggest.js';

/** The alerting channel that carries status page subscribers' webhooks; a configured one of that name is replaced. */
const RESERVED_CHANNEL = 'status-subscribers';

/** status_page.subscriptions.email_channel must be an email channel of alerting, or the page offers no email updates. */
export function lintStatusSubscriptions(config: BulwarkConfig): Finding[] {
  const subs = config.status_page?.subscriptions;
  const channels = config.alerting?.channels ?? {};
  const out: Finding[] = [];
  const name = subs?.email_channel;
  if (name !== undefined) {
    const path = ['status_page', 'subscriptions', 'email_channel'];
    const channel = channels[name];
    if (channel === undefined) {
      const emails = Object.keys(channels).filter((n) => channels[n]?.email !== undefined);
      out.push({
        severity: 'error', rule: 'lint.status_email_channel', path, found: name,
        message: `status page subscriptions name the email channel ${name}, which alerting.channels does not have; the page would offer no email updates`,
        hint: didYouMean(name, emails) ?? (emails.length ? `email channels: ${emails.join(', ')}` : 'add an email channel under alerting.channels'),
      });
    } else if (channel.email === undefined) {
      out.push({
        severity: 'error', rule: 'lint.status_email_channel', path, found: name,
        message: `status page subscriptions send email through ${name}, which is not an email channel`, hint: 'name a channel with email: { smtp: … }',
      });
    }
  }
  if (config.status_page && channels[RESERVED_CHANNEL] !== undefined) {
    out.push({
      severity: 'warning', rule: 'lint.reserved_channel', path: ['alerting', 'channels', RESERVED_CHANNEL], found: RESERVED_CHANNEL,
      message: `${RESERVED_CHANNEL} is the built-in channel of the status page's webhook subscribers; this one is replaced by it`, hint: 'rename the channel',
    });
  }
  return out;
}
