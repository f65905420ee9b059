import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createToken, freePort, Harness, startDaemon, waitFor, type Daemon } from '../daemon/helpers.js';
import { Upstream, WebhookReceiver } from '../alerting/receivers.js';

/**
 * `bulwark runbook run` end to end: a real daemon (API, alerting, status page),
 * a real webhook receiver, real commands. A runbook with command, manual, api
 * and declare steps runs non-interactively: the declaration opens the
 * incident, the status page shows the component as a major outage with the
 * public message, the webhook gets the communication template, and every
 * step is on the incident's timeline and in the run log. A failing step stops
 * the run with exit 1, on the incident given.
 */

const h = new Harness();
const closers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await h.cleanup();
  for (const c of closers.splice(0)) await c.close();
});

const NODE = JSON.stringify(process.execPath);
const MESSAGE = 'We have declared a disaster and are restoring service from our DR region.';

function config(ports: { upstream: number; hook: number; status: number }): string {
  return `name: runbooks-e2e
zones:
  z1: { region: r1 }
services:
  api:
    health_check: { interval: 200ms, timeout: 150ms, fall: 1, rise: 1 }
    endpoints:
      - { url: http://127.0.0.1:${ports.upstream}, zone: z1 }
alerting:
  channels:
    oncall: { webhook: { url: "http://127.0.0.1:${ports.hook}/hook" } }
communication_templates:
  disaster_declaration:
    subject: "Disaster declared - [Service Name]"
    template: |
      We have declared a disaster affecting [service_name] at [start_time].
      Current Status: [current_status]
status_page:
  title: Runbooks E2E
  listen: 127.0.0.1:${ports.status}
runbooks:
  region-loss:
    steps:
      - { name: check-replica, phase: detection, command: [${NODE}, -e, "console.log('replica lag 0 bytes')"], timeout: 30s }
      - { name: confirm-disaster, phase: detection, manual: [Health checks fail in r1, Provider confirms the outage] }
      - { name: services, phase: assessment, api: { method: GET, path: /api/v1/services } }
      - name: declare
        phase: declaration
        declare: { title: Region r1 lost, components: [api], message: "${MESSAGE}", notify: [oncall], template: disaster_declaration }
  broken:
    steps:
      - { name: first, command: [${NODE}, -e, "process.exit(0)"] }
      - { name: promote, command: [${NODE}, -e, "console.error('standby not reachable'); process.exit(3)"] }
      - { name: never, manual: Not reached }
`;
}

interface RunJson {
  outcome: string; incidentId: number | null; id: string;
  steps: Array<{ name: string; kind: string; outcome: string; startedAt: number | null; endedAt: number | null; detail?: string; confirmedBy?: string }>;
}

async function api<T>(d: Daemon, token: string, path: string): Promise<T> {
  const res = await fetch(`${d.base}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function setup() {
  const upstream = new Upstream();
  const hook = new WebhookReceiver();
  closers.push(upstream, hook);
  const ports = { upstream: await upstream.start(), hook: await hook.listen(), status: await freePort() };
  const d = await startDaemon(h, { yaml: config(ports) });
  const token = await createToken(h, d.dataDir, 'operator');
  const runbook = (args: string[]) => h.run(['runbook', ...args, '-c', d.configFile, '--data-dir', d.dataDir, '--url', d.base, '--token', token], {}, 60_000);
  return { hook, d, token, runbook, statusBase: `http://127.0.0.1:${ports.status}` };
}

describe('bulwark runbook run, end to end', () => {
  it('runs command, manual, api and declare steps; the declaration reaches the status page and the webhook; the timeline is on the incident', async () => {
    const { hook, d, token, runbook, statusBase } = await setup();

    const unconfirmed = await runbook(['run', 'region-loss']);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stdout).toMatch(/confirm-disaster FAILED.*not confirmed.*--confirm confirm-disaster/);

    const started = Date.now();
    const result = await runbook(['run', 'region-loss', '--confirm', 'confirm-disaster', '--json']);
    console.log(`runbook region-loss (4 steps, CLI process included): ${Date.now() - started} ms`);
    expect(result.code, result.stderr).toBe(0);
    const run = JSON.parse(result.stdout) as RunJson;
    expect(run.outcome).toBe('completed');
    expect(run.steps.map((s) => [s.name, s.kind, s.outcome])).toEqual([
      ['check-replica', 'command', 'done'], ['confirm-disaster', 'manual', 'done'], ['services', 'api', 'done'], ['declare', 'declare', 'done'],
    ]);
    expect(run.steps[0]!.detail).toBe('exit code 0: replica lag 0 bytes');
    expect(run.steps[1]!.confirmedBy).toBe('--confirm');
    expect(run.steps[2]!.detail).toBe('GET /api/v1/services: HTTP 200');
    for (const s of run.steps) expect(s.endedAt! >= s.startedAt!).toBe(true);
    expect(run.incidentId).toEqual(expect.any(Number));

    // The communication template went to the webhook.
    const declared = await hook.until((r) => r.find((x) => (JSON.parse(x.body) as { subject: string }).subject === 'Disaster declared - api'));
    const payload = JSON.parse(declared.body) as { text: string; severity: string };
    expect(payload.severity).toBe('critical');
    expect(payload.text).toMatch(/^We have declared a disaster affecting api at /);

    // The incident's timeline: opened, declared, the public message, and every step of the run.
    const detail = await api<{ incident: { state: string; labels: Record<string, string> }; timeline: Array<{ kind: string; data?: { text?: string; public?: boolean } }> }>(d, token, `/incidents/${run.incidentId}`);
    expect(detail.incident.labels).toMatchObject({ service: 'api', components: 'api', declared: 'true' });
    const notes = detail.timeline.filter((e) => e.kind === 'note').map((e) => e.data!.text!);
    expect(detail.timeline.map((e) => e.kind).slice(0, 3)).toEqual(['opened', 'declared', 'note']);
    expect(detail.timeline.find((e) => e.data?.public === true)?.data?.text).toBe(MESSAGE);
    for (const step of ['check-replica [detection] done', 'confirm-disaster [detection] done', 'services [assessment] done', 'declare [declaration] done']) {
      expect(notes.some((n) => n.includes(`runbook region-loss: step ${step}`)), `${step} in ${notes.join('\n')}`).toBe(true);
    }
    expect(notes.at(-1)).toMatch(/^runbook region-loss completed after \d+ ms$/);

    // The public page: the component is a major outage, with the public message and nothing internal.
    const summary = await waitFor(async () => {
      const body = await (await fetch(`${statusBase}/api/v2/summary.json`)).json() as { components: Array<{ name: string; status: string }>; incidents: Array<{ incident_updates: Array<{ body: string }> }> };
      return body.components.find((c) => c.name === 'api')?.status === 'major_outage' ? body : undefined;
    }, 'the status page shows the declaration');
    expect(summary.incidents[0]!.incident_updates.map((u) => u.body)).toContain(MESSAGE);
    expect(JSON.stringify(summary)).not.toContain('Region r1 lost');

    // The run log.
    const logs = await readdir(join(d.dataDir, 'runbooks', 'runs'));
    const logged = JSON.parse(await readFile(join(d.dataDir, 'runbooks', 'runs', `${run.id}.json`), 'utf8')) as RunJson;
    expect(logs.filter((f) => f.endsWith('.json'))).toHaveLength(2);
    expect(logged.outcome).toBe('completed');
  }, 180_000);

  it('stops at a failing automated step with exit 1, names it, and records it on the incident given', async () => {
    const { d, token, runbook } = await setup();
    const declared = await runbook(['run', 'region-loss', '--yes', '--json']);
    const incidentId = (JSON.parse(declared.stdout) as RunJson).incidentId!;

    const result = await runbook(['run', 'broken', '--incident', String(incidentId)]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/promote FAILED \d+ ms: exit code 3: standby not reachable/);
    expect(result.stdout).toMatch(/runbook broken FAILED in \d+ ms: 1 done, 1 failed, 0 skipped, 1 not run/);
    const timeline = (await api<{ timeline: Array<{ kind: string; data?: { text?: string } }> }>(d, token, `/incidents/${incidentId}`)).timeline;
    const notes = timeline.filter((e) => e.kind === 'note').map((e) => e.data!.text!);
    expect(notes).toContainEqual(expect.stringMatching(/^runbook broken: step promote failed in \d+ ms: exit code 3: standby not reachable$/));
    expect(notes.at(-1)).toMatch(/^runbook broken failed after/);
    expect(notes.some((n) => n.includes('step never'))).toBe(false);

    const listed = await h.run(['runbook', 'ls', '-c', d.configFile, '--data-dir', d.dataDir]);
    expect(listed.stdout).toMatch(/broken {2}3 steps {2}last run \S+ failed/);
  }, 180_000);

  it('generate on examples/full.yaml writes runbooks that check accepts', async () => {
    const dir = await h.tempDir();
    const env = Object.fromEntries(['PG_REPLICATION_PASSWORD', 'PG_SUPERUSER_PASSWORD', 'BULWARK_BACKUP_PASSWORD', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'PAGERDUTY_ROUTING_KEY', 'SLACK_WEBHOOK_PATH', 'SMTP_PASSWORD'].map((k) => [k, 'x']));
    const base = (await readFile('examples/full.yaml', 'utf8')).replace(/^runbooks:[\s\S]*$/m, '');
    const generated = await h.run(['runbook', 'generate', '-c', 'examples/full.yaml', '--name', 'region-loss-generated'], env);
    expect(generated.code, generated.stderr).toBe(0);
    const file = join(dir, 'bulwark.yaml');
    await writeFile(file, `${base}\n${generated.stdout}`);
    const check = await h.run(['check', '-c', file, '--json'], env);
    const findings = (JSON.parse(check.stdout) as { findings: Array<{ path: string; rule: string; severity: string }> }).findings;
    expect(findings.filter((f) => String(f.path).startsWith('runbooks'))).toEqual([]);
    expect(check.code, check.stdout).toBe(0);
    const plan = await h.run(['runbook', 'run', 'region-loss-generated', '-c', file, '--dry-run'], env);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/declare-disaster \(declare, declaration\): declares a disaster .* shows api, web as a major outage/);
    expect(plan.stdout).toMatch(/prove-backup_restoration \(drill, assessment\): runs drill backup_restoration/);
  }, 120_000);
});
