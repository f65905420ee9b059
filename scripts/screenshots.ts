/**
 * The README's screenshots, taken deliberately: a real daemon (`bulwark up`
 * through tsx) with a status page and the dashboard, eight services in two
 * regions with 90 days of synthetic history, one service down with its
 * incident open and a public update, one endpoint of another down; then the
 * status page and the dashboard's overview (signed in with a token from
 * `bulwark token create`) in Chromium at 1280×800.
 *
 *   node --import tsx scripts/screenshots.ts [--out docs/images]
 *
 * Writes OUT/status-page.png and OUT/dashboard.png. Needs Debian's chromium
 * (scripts/test.sh installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openSqliteStore, type Store } from '../src/store/index.js';
import { launchBrowser } from '../src/testing/browser.js';
import { freePort } from '../src/testing/net.js';
import { prng } from '../src/testing/prng.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'docs/images' } } });
const ROOT = new URL('..', import.meta.url).pathname;
const OUT = resolve(ROOT, values.out);
const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'bulwark-screenshots-'));
const children = new Set<ChildProcess>();
const servers = new Map<string, Server>();

/** Service → tier, and the zones of its two endpoints. */
const SERVICES: Record<string, { tier: string; zones: [string, string]; description: string }> = {
  'web': { tier: 'gold', zones: ['use1-a', 'use1-b'], description: 'Public website' },
  'api': { tier: 'gold', zones: ['use1-a', 'use1-b'], description: 'Public REST API' },
  'checkout': { tier: 'gold', zones: ['use1-a', 'use1-b'], description: 'Payments and orders' },
  'auth': { tier: 'gold', zones: ['euw1-a', 'euw1-b'], description: 'Sign-in and tokens' },
  'search': { tier: 'silver', zones: ['euw1-a', 'euw1-b'], description: 'Product search' },
  'billing': { tier: 'silver', zones: ['euw1-a', 'euw1-b'], description: 'Invoices' },
  'notifications': { tier: 'silver', zones: ['use1-a', 'euw1-a'], description: 'Email and push' },
  'reports': { tier: 'bronze', zones: ['use1-b', 'euw1-b'], description: 'Scheduled exports' },
};

function run(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function runToEnd(args: string[]): Promise<string> {
  const child = run(args);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  if (code !== 0) throw new Error(`bulwark ${args.join(' ')} exited ${code}: ${err}`);
  return out;
}

async function waitFor<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function upstream(name: string): Promise<number> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"pass"}'));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  servers.set(name, server);
  return (server.address() as AddressInfo).port;
}

async function kill(name: string): Promise<void> {
  const server = servers.get(name);
  if (!server) return;
  servers.delete(name);
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
}

/** 90 days per service: up, then an outage of 1 to 15 minutes every 3 to 12 days. */
async function seed(store: Store, now: number): Promise<void> {
  const random = prng(7);
  for (const subject of Object.keys(SERVICES)) {
    await store.recordStateChange({ subjectKind: 'service', subject, from: 'unknown', to: 'up', at: now - 91 * DAY });
    for (let at = now - 90 * DAY + random() * 5 * DAY; at < now - DAY; at += (3 + random() * 9) * DAY) {
      await store.recordStateChange({ subjectKind: 'service', subject, from: 'up', to: 'down', at });
      await store.recordStateChange({ subjectKind: 'service', subject, from: 'down', to: 'up', at: at + 60_000 + random() * 14 * 60_000 });
    }
  }
}

async function main(): Promise<void> {
  const [statusPort, apiPort] = [await freePort(), await freePort()];
  const services: string[] = [];
  for (const [name, s] of Object.entries(SERVICES)) {
    const [a, b] = [await upstream(`${name}/a`), await upstream(`${name}/b`)];
    services.push(`  ${name}:
    tier: ${s.tier}
    description: ${s.description}
    endpoints:
      - { url: "http://127.0.0.1:${a}", name: a, zone: ${s.zones[0]} }
      - { url: "http://127.0.0.1:${b}", name: b, zone: ${s.zones[1]} }
    health_check: { path: /health, interval: 500ms, timeout: 300ms, fall: 2, rise: 1 }`);
  }
  const configFile = join(dir, 'bulwark.yaml');
  const dataDir = join(dir, 'data');
  writeFileSync(configFile, `name: acme
api: { listen: 127.0.0.1:${apiPort} }
sla_tiers:
  gold: { availability: 99.9%, rto: 5m, rpo: 1h }
  silver: { availability: 99.5%, rto: 1h, rpo: 24h }
  bronze: { availability: 99%, rto: 4h, rpo: 24h }
regions: { us-east-1: {}, eu-west-1: {} }
zones:
  use1-a: { region: us-east-1 }
  use1-b: { region: us-east-1 }
  euw1-a: { region: eu-west-1 }
  euw1-b: { region: eu-west-1 }
services:
${services.join('\n')}
status_page:
  title: Acme Cloud status
  description: Live status of Acme Cloud's services, from the same probes and incidents our operators see.
  listen: 127.0.0.1:${statusPort}
alerting:
  rules:
    service-down: { when: service_down, severity: critical }
`);
  mkdirSync(dataDir, { recursive: true });
  const store = await openSqliteStore({ path: join(dataDir, 'bulwark.db') });
  await store.migrate();
  await seed(store, Date.now());
  await store.close();

  const daemon = run(['up', '-c', configFile, '--data-dir', dataDir, '--listen', `127.0.0.1:${apiPort}`, '--log-level', 'warn', '--log-format', 'json']);
  let daemonErr = '';
  daemon.stderr?.on('data', (d: Buffer) => { daemonErr = (daemonErr + d.toString()).slice(-4000); });
  const api = `http://127.0.0.1:${apiPort}`;
  const page = `http://127.0.0.1:${statusPort}`;
  await waitFor(async () => ((await fetch(`${api}/readyz`)).status === 200 ? true : undefined), 'daemon /readyz', 60_000).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${daemonErr}`);
  });
  const token = (await runToEnd(['token', 'create', '--name', 'ops-alice', '--data-dir', dataDir])).trim();

  // billing loses both endpoints (an incident opens), search one (degraded).
  await kill('billing/a');
  await kill('billing/b');
  await kill('search/b');
  const incidentId = await waitFor(async () => {
    const s = await (await fetch(`${page}/api/v2/summary.json`)).json() as { incidents: Array<{ id: string }> };
    return s.incidents[0]?.id;
  }, 'the incident on the status page', 30_000);
  await runToEnd(['incident', 'note', incidentId, 'Invoices are delayed; we are moving billing to its standby servers.', '--public', '--url', api, '--token', token]);
  await waitFor(async () => ((await (await fetch(`${page}/`)).text()).includes('standby servers') ? true : undefined), 'the public update on the page', 20_000);

  mkdirSync(OUT, { recursive: true });
  const browser = await launchBrowser();
  try {
    const tab = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    await tab.goto(`${page}/`);
    await tab.screenshot({ path: join(OUT, 'status-page.png') });

    await tab.goto(`${api}/ui/login`);
    await tab.fill('#token', token);
    await tab.click('button[type="submit"]');
    await tab.waitForURL(`${api}/ui`);
    await tab.waitForSelector('h1');
    await tab.screenshot({ path: join(OUT, 'dashboard.png') });
  } finally {
    await browser.close();
  }
  daemon.kill('SIGTERM');
  await new Promise((done) => (daemon.exitCode === null ? daemon.once('exit', done) : done(undefined)));
  for (const name of ['status-page.png', 'dashboard.png']) {
    console.log(`${join(values.out, name)}: ${Math.round(statSync(join(OUT, name)).size / 1024)} KB`);
  }
}

try {
  await main();
} finally {
  for (const c of children) c.kill('SIGKILL');
  for (const s of servers.values()) { s.closeAllConnections(); s.close(); }
  rmSync(dir, { recursive: true, force: true });
}
