import { afterEach, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../../src/alerting/channels/index.js';
import { createToken, Harness, startDaemon, waitFor, type Daemon } from '../daemon/helpers.js';
import { mailSubject, mailText, MailReceiver, Upstream, WebhookReceiver } from './receivers.js';

/**
 * Alerting end to end with real processes: `bulwark up`, two upstream HTTP
 * servers, a webhook receiver and an SMTP server. Every endpoint of a service
 * dies; the incident pages level 1 by webhook, escalates to level 2 by email,
 * is acknowledged through the signed link in that email, and resolves when the
 * endpoints come back, each step with the seed's templates rendered exactly.
 */

const h = new Harness();
const receivers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await h.cleanup();
  for (const r of receivers.splice(0)) await r.close();
});

const HOOK_SECRET = 'hook-secret-0123456789';

function config(ports: { up: number[]; hook: number; smtp: number }, levelTwoAfter = '3s'): string {
  return `name: alerting-e2e
sla_tiers:
  enterprise: { availability: 90%, rto: 4h, rpo: 24h }
zones:
  z1: { region: r1 }
services:
  api:
    tier: enterprise
    health_check: { interval: 200ms, timeout: 150ms, fall: 1, rise: 1 }
    endpoints:
${ports.up.map((p) => `      - { url: http://127.0.0.1:${p}, zone: z1 }`).join('\n')}
  web:
    tier: enterprise
    depends_on: [api]
    health_check: { interval: 1m }
    endpoints:
      - { url: http://127.0.0.1:${ports.up[0]}, zone: z1 }
alerting:
  channels:
    oncall: { webhook: { url: "http://127.0.0.1:${ports.hook}/hook", secret: "\${env:HOOK_SECRET}" } }
    manager: { email: { smtp: { host: 127.0.0.1, port: ${ports.smtp}, from: alerts@example.com, starttls: false }, to: [manager@example.com] } }
  escalation_policies:
    critical:
      - level_1: oncall
        timeout: ${levelTwoAfter}
      - level_2: manager
        timeout: 30 minutes
  resolve_after: 1s
  rules:
    api-down: { when: service_down, services: [api], severity: critical }
communication_templates:
  incident_notification:
    subject: "Service Disruption - [Service Name]"
    template: |
      We are currently experiencing an issue with [service_name] that began at [start_time].

      Impact: [impact_description]
      Current Status: [current_status]
      Next Update: [next_update_time]
  resolution_notification:
    subject: "Service Restored - [Service Name]"
    template: |
      The issue with [service_name] has been resolved as of [resolution_time].

      Root Cause: [root_cause_summary]
      Resolution: [resolution_summary]

      We will conduct a post-incident review and share findings within 48 hours.
`;
}

interface IncidentJson {
  id: number; state: string; openedAt: number; acknowledgedBy: string | null; resolvedBy: string | null; nextAt: number | null; reminderAt: number | null;
}

async function api<T>(d: Daemon, token: string, path: string): Promise<T> {
  const res = await fetch(`${d.base}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

async function setup(levelTwoAfter?: string) {
  const upstreams = [new Upstream(), new Upstream()];
  const ports = await Promise.all(upstreams.map((u) => u.start()));
  const hook = new WebhookReceiver();
  const mail = new MailReceiver();
  receivers.push(hook, mail, ...upstreams);
  const hookPort = await hook.listen();
  const smtpPort = await mail.listen();
  const d = await startDaemon(h, { yaml: config({ up: ports, hook: hookPort, smtp: smtpPort }, levelTwoAfter), env: { HOOK_SECRET } });
  const token = await createToken(h, d.dataDir, 'e2e');
  await waitFor(async () => ((await api<{ services: Array<{ name: string; status: string }> }>(d, token, '/services')).services.find((s) => s.name === 'api')?.status === 'up' ? true : undefined), 'api up');
  return { upstreams, hook, mail, d, token };
}

describe('alerting end to end', () => {
  it('pages level 1, escalates to level 2 at its timeout, stops on a signed-link acknowledgement, resolves on recovery', async () => {
    const { upstreams, hook, mail, d, token } = await setup();
    await Promise.all(upstreams.map((u) => u.stop()));

    const trigger = await hook.until((r) => r.find((x) => JSON.parse(x.body).kind === 'trigger'));
    const incident = (await api<{ incidents: IncidentJson[] }>(d, token, '/incidents')).incidents[0]!;
    const payload = JSON.parse(trigger.body) as { subject: string; text: string; dedup_key: string; severity: string; links: { acknowledge: string } };
    expect(payload.subject).toBe('Service Disruption - api');
    expect(payload.severity).toBe('critical');
    expect(payload.dedup_key).toBe('api-down:service/api');
    const lines = payload.text.split('\n');
    expect(lines.slice(0, 4)).toEqual([
      `We are currently experiencing an issue with api that began at ${utc(incident.openedAt)}.`,
      '',
      'Impact: api (enterprise tier) is unavailable; also affected: web (enterprise tier)',
      'Current Status: Investigating',
    ]);
    // Due one update_interval (30 minutes) after the page was rendered.
    const nextUpdate = Date.parse(`${lines[4]!.replace('Next Update: ', '').replace(' UTC', '')}Z`);
    expect(Math.abs(nextUpdate - (incident.openedAt + 30 * 60_000))).toBeLessThanOrEqual(60_000);
    expect(payload.text).toMatch(/Acknowledge: http:\/\/127\.0\.0\.1:\d+\/links\/incidents\/\d+\/acknowledge\?actor=oncall&expires=\d+&sig=/);
    expect(trigger.headers['idempotency-key']).toBe(`incident-${incident.id}.c0l1.oncall`);
    expect(verifyWebhookSignature(HOOK_SECRET, String(trigger.headers['x-bulwark-timestamp']), trigger.body, String(trigger.headers['x-bulwark-signature']))).toBe(true);
    console.log(`alerting e2e: first page ${trigger.at - incident.openedAt} ms after the incident opened (the quorum decision)`);

    // Level 2 (email) at its 3 s timeout, not before.
    const escalation = await waitFor(() => mail.mails[0], 'level 2 email', 30_000);
    expect(escalation.at - incident.openedAt).toBeGreaterThanOrEqual(3_000);
    expect(escalation.to).toEqual(['manager@example.com']);
    expect(mailSubject(escalation.raw)).toBe('Service Disruption - api');
    const text = mailText(escalation.raw);
    expect(text).toContain(`We are currently experiencing an issue with api that began at ${utc(incident.openedAt)}.`);
    const link = /Acknowledge: (\S+)/.exec(text)?.[1];
    expect(link, text).toMatch(/actor=manager/);

    // The signed link: GET only shows a confirmation page; POST acknowledges.
    const page = await fetch(link!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form');
    expect((await api<{ incident: IncidentJson }>(d, token, `/incidents/${incident.id}`)).incident.state).toBe('triggered');
    const url = new URL(link!);
    const acked = await fetch(`${url.origin}${url.pathname}`, { method: 'POST', body: url.searchParams, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(acked.status, await acked.clone().text()).toBe(200);
    const afterAck = (await api<{ incident: IncidentJson }>(d, token, `/incidents/${incident.id}`)).incident;
    expect(afterAck).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'link:manager', nextAt: null });
    await hook.until((r) => r.find((x) => JSON.parse(x.body).kind === 'acknowledge'));

    // Recovery resolves it (after resolve_after) and sends the resolution template to everyone paged.
    await Promise.all(upstreams.map((u) => u.start()));
    const resolved = await hook.until((r) => r.find((x) => JSON.parse(x.body).kind === 'resolve'));
    const done = (await api<{ incident: IncidentJson }>(d, token, `/incidents/${incident.id}`)).incident as IncidentJson & { resolvedAt: number };
    expect(done).toMatchObject({ state: 'resolved', resolvedBy: 'bulwark' });
    const resolution = JSON.parse(resolved.body) as { subject: string; text: string };
    expect(resolution.subject).toBe('Service Restored - api');
    expect(resolution.text).toBe([
      `The issue with api has been resolved as of ${utc(done.resolvedAt)}.`,
      '',
      'Root Cause: under investigation',
      'Resolution: the service recovered and its health checks pass again',
      '',
      'We will conduct a post-incident review and share findings within 48 hours.',
      '',
    ].join('\n'));
    const resolutionMail = await waitFor(() => mail.mails.find((m) => mailSubject(m.raw) === 'Service Restored - api'), 'resolution email');
    expect(mailText(resolutionMail.raw)).toContain('We will conduct a post-incident review and share findings within 48 hours.');
    expect([...hook.acceptedByKey().values()].every((n) => n === 1)).toBe(true);
  });

  it('delivers every due notification exactly once across SIGKILLs: before delivery, and during retries against a failing receiver', async () => {
    const { upstreams, hook, mail, d, token } = await setup('30m');
    const hookPort = hook.port();
    await hook.close();
    await Promise.all(upstreams.map((u) => u.stop()));
    // The incident opens while the receiver is down: its page waits in the outbox.
    const pending = await waitFor(async () => {
      const incidents = (await api<{ incidents: IncidentJson[] }>(d, token, '/incidents')).incidents;
      if (!incidents[0]) return undefined;
      const detail = await api<{ notifications: Array<{ state: string; attempts: number }> }>(d, token, `/incidents/${incidents[0].id}`);
      return detail.notifications.some((n) => n.state === 'pending' && n.attempts >= 1) ? incidents[0] : undefined;
    }, 'incident with an undelivered page');
    d.proc.child.kill('SIGKILL');
    await d.proc.exited;

    // Second life: the receiver answers 500; SIGKILL again in the middle of the retries.
    hook.answer = 500;
    await hook.listen(hookPort);
    const second = await restart(d);
    await hook.until((r) => (r.filter((x) => x.status === 500).length >= 2 ? true : undefined));
    second.proc.child.kill('SIGKILL');
    await second.proc.exited;

    // Third life: the receiver accepts; the page arrives once.
    hook.answer = 200;
    const third = await restart(d);
    await hook.until((r) => r.find((x) => x.status === 200 && JSON.parse(x.body).kind === 'trigger'));
    const detail = await waitFor(async () => {
      const got = await api<{ notifications: Array<{ channel: string; kind: string; state: string; attempts: number }> }>(third, token, `/incidents/${pending.id}`);
      return got.notifications.find((n) => n.channel === 'oncall' && n.kind === 'trigger' && n.state === 'delivered') ? got : undefined;
    }, 'delivered state recorded');
    const byKey = hook.acceptedByKey();
    const duplicates = [...byKey.values()].reduce((sum, n) => sum + n - 1, 0);
    console.log(`alerting crash test: ${hook.received.length} requests (${hook.received.filter((r) => r.status === 500).length} answered 500), ${byKey.size} notification(s) accepted, ${duplicates} duplicate(s)`);
    expect(byKey.get(`incident-${pending.id}.c0l1.oncall`)).toBe(1);
    expect(duplicates).toBe(0);
    expect(detail.notifications.filter((n) => n.kind === 'trigger')).toHaveLength(1);
    expect((await api<{ incidents: IncidentJson[] }>(third, token, '/incidents')).incidents).toHaveLength(1);
    expect(mail.mails).toHaveLength(0);
  });
});

/** `bulwark up` again on the same configuration, data directory and port, as after a crash. */
async function restart(d: Daemon): Promise<Daemon> {
  const proc = h.spawn(['up', '-c', d.configFile, '--data-dir', d.dataDir, '--listen', `127.0.0.1:${d.port}`, '--log-format', 'json'], { HOOK_SECRET });
  await waitFor(async () => ((await fetch(`${d.base}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), 'restarted daemon /readyz', 30_000);
  return { ...d, proc };
}
