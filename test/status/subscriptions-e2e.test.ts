import { afterEach, describe, expect, it } from 'vitest';
import { freePort, Harness, startDaemon, waitFor } from '../daemon/helpers.js';
import { mailSubject, mailText, MailReceiver, Upstream } from '../alerting/receivers.js';

/**
 * Status page subscriptions end to end with real processes: `bulwark up` with
 * a status page, upstreams and a real SMTP server. Subscribe through the
 * status listener, follow the emailed confirmation link (GET asks, POST
 * confirms), kill the upstreams, receive the incident update with its
 * List-Unsubscribe headers, and unsubscribe with the RFC 8058 one-click POST.
 */

const h = new Harness();
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await h.cleanup();
  for (const close of closers.splice(0)) await close();
});

function config(up: number[], smtp: number, statusPort: number): string {
  return `name: subscriptions-e2e
sla_tiers:
  gold: { availability: 90%, rto: 4h, rpo: 24h }
zones:
  z1: { region: r1 }
services:
  api:
    tier: gold
    health_check: { interval: 300ms, timeout: 250ms, fall: 3, rise: 1 }
    endpoints:
${up.map((p) => `      - { url: http://127.0.0.1:${p}, zone: z1 }`).join('\n')}
alerting:
  channels:
    subscribers: { email: { smtp: { host: 127.0.0.1, port: ${smtp}, from: status@example.com, starttls: false }, to: [ops@example.com] } }
  resolve_after: 1s
  rules:
    api-down: { when: service_down, services: [api], severity: critical }
status_page:
  title: Acme Status
  listen: 127.0.0.1:${statusPort}
  subscriptions: { email_channel: subscribers }
`;
}

const unfold = (raw: string) => raw.replace(/\r\n[ \t]+/g, ' ');
const form = (fields: Record<string, string>) => ({ method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } });

describe('status page subscriptions end to end', () => {
  it('subscribes by email with double opt-in, mails the incident update with List-Unsubscribe, and unsubscribes in one click', async () => {
    const upstreams = [new Upstream(), new Upstream()];
    const ports = await Promise.all(upstreams.map((u) => u.start()));
    const mail = new MailReceiver();
    closers.push(() => mail.close(), ...upstreams.map((u) => () => u.close()));
    const statusPort = await freePort();
    const d = await startDaemon(h, { yaml: config(ports, await mail.listen(), statusPort) });
    const page = `http://127.0.0.1:${statusPort}`;

    const subscribed = await fetch(`${page}/subscribe`, form({ email: 'ann@example.com' }));
    expect(subscribed.status).toBe(202);
    const confirmation = await waitFor(() => mail.mails.find((m) => m.to.includes('ann@example.com')), 'confirmation email', 30_000);
    expect(mailSubject(confirmation.raw)).toBe('Confirm your subscription to Acme Status status updates');
    const link = /(http:\/\/\S+\/subscribe\/confirm\?token=\S+)/.exec(mailText(confirmation.raw))?.[1];
    expect(link, mailText(confirmation.raw)).toBeDefined();

    const ask = await fetch(link!);
    expect(ask.status).toBe(200);
    const askPage = await ask.text();
    expect(askPage).toContain('<form method="post" action="/subscribe/confirm">');
    const token = /name="token" value="([^"]+)"/.exec(askPage)![1]!;
    const confirmed = await fetch(`${page}/subscribe/confirm`, form({ token }));
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('Your subscription is confirmed');

    await Promise.all(upstreams.map((u) => u.stop()));
    const update = await waitFor(() => mail.mails.find((m) => mailSubject(m.raw).startsWith('[Acme Status] Outage of api')), 'incident update email', 30_000)
      .catch((err: unknown) => { throw new Error(`${String(err)}; mails: ${mail.mails.map((m) => mailSubject(m.raw)).join(' | ')}\n${d.proc.stderr().slice(-4000)}`); });
    expect(mailSubject(update.raw)).toBe('[Acme Status] Outage of api: Investigating');
    expect(update.to).toEqual(['ann@example.com']);
    const text = mailText(update.raw);
    expect(text).toContain('We are investigating a disruption of api.');
    // Links to the status page only: no upstream address, no internal title.
    expect(text.replaceAll(page, '')).not.toMatch(/127\.0\.0\.1|service_down|api-down/);
    const headers = unfold(update.raw);
    expect(headers).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
    const unsubscribe = /^List-Unsubscribe: <([^>]+)>\r$/m.exec(headers)?.[1];
    expect(unsubscribe).toMatch(new RegExp(`^${page}/unsubscribe\\?token=`));

    const oneClick = await fetch(unsubscribe!, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(oneClick.status).toBe(200);
    expect(await oneClick.text()).toContain('You will receive no more status updates');

    // Recovery resolves the incident; the unsubscribed address hears nothing of it.
    await Promise.all(upstreams.map((u) => u.start()));
    await waitFor(async () => ((await (await fetch(`${page}/api/v2/incidents.json`)).text()).includes('"status":"resolved"') ? true : undefined), 'incident resolved on the page', 30_000);
    // Two fan-out intervals and a send, had it been queued.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(mail.mails.filter((m) => mailSubject(m.raw).includes('Resolved'))).toEqual([]);
  }, 90_000);
});
