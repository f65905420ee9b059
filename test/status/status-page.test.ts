import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkAccessibility, launchBrowser, saveScreenshot } from '../../src/testing/browser.js';
import { createToken, freePort, Harness, startDaemon, waitFor } from '../daemon/helpers.js';

interface Summary {
  components: Array<{ name: string; status: string }>;
  incidents: Array<{ id: string; name: string; status: string; impact: string }>;
}

/**
 * `bulwark up` with a status_page: the page on its own listener follows the
 * probes. An endpoint's upstream is killed; the page shows the outage, in
 * plain HTML and in a real browser.
 */

const h = new Harness();
const upstreams: Server[] = [];

afterEach(async () => {
  await h.cleanup();
  for (const s of upstreams.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
});

async function upstream(): Promise<Server> {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstreams.push(server);
  return server;
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

function kill(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function page(url: string): Promise<string> {
  const res = await fetch(url);
  return res.text();
}

describe('the status page in a running daemon', () => {
  it('shows an endpoint killed as an outage of its service, with its incident and public update, on its own listener only', async () => {
    const [a, b] = [await upstream(), await upstream()];
    const statusPort = await freePort();
    const yaml = `name: status-test
zones:
  z1: { region: local }
services:
  shop:
    endpoints:
      - { url: "http://127.0.0.1:${portOf(a)}", name: a, zone: z1 }
      - { url: "http://127.0.0.1:${portOf(b)}", name: b, zone: z1 }
    health_check: { interval: 200ms, timeout: 150ms, fall: 1, rise: 1 }
status_page:
  title: Shop status
  listen: 127.0.0.1:${statusPort}
alerting:
  resolve_after: 1s
  rules:
    shop-down: { when: service_down, services: [shop], severity: critical }
`;
    const daemon = await startDaemon(h, { yaml });
    const base = `http://127.0.0.1:${statusPort}`;
    await waitFor(async () => ((await page(`${base}/`)).includes('All systems operational') ? true : undefined), 'operational page', 20_000, 250);

    // The admin API is not on this listener, nor the page on the API's.
    expect((await fetch(`${base}/api/v1/status`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    expect((await fetch(`${daemon.base}/api/v2/summary.json`)).status).not.toBe(200);

    await kill(a);
    const partial = await waitFor(async () => {
      const html = await page(`${base}/`);
      return html.includes('Partial outage') ? html : undefined;
    }, 'partial outage on the page', 20_000, 250);
    expect(partial).toContain('st-partial_outage');
    expect(partial).not.toContain(String(portOf(b)));

    await kill(b);
    const summary = await waitFor(async () => {
      const s = await (await fetch(`${base}/api/v2/summary.json`)).json() as Summary;
      return s.components.find((c) => c.name === 'shop')?.status === 'major_outage' && s.incidents.length > 0 ? s : undefined;
    }, 'major outage and its incident in summary.json', 20_000, 250);
    const incident = summary.incidents[0]!;
    expect(incident).toMatchObject({ name: 'Outage of shop', status: 'investigating', impact: 'critical' });

    // An operator's public update reaches the page; a private note does not.
    const token = await createToken(h, daemon.dataDir, 'status-test');
    for (const args of [['--public', 'We are <b>restarting</b> the shop.'], ['internal: upstream on port 1234 refused']]) {
      const noted = await h.run(['incident', 'note', incident.id, ...args.slice(-1), ...args.slice(0, -1), '--url', daemon.base, '--token', token]);
      expect(noted.code, noted.stderr).toBe(0);
    }
    const updated = await waitFor(async () => {
      const html = await page(`${base}/incidents/${incident.id}`);
      return html.includes('restarting') ? html : undefined;
    }, 'the public update on the incident page', 20_000, 250);
    expect(updated).toContain('We are &lt;b&gt;restarting&lt;/b&gt; the shop.');
    expect(updated).not.toContain('internal');

    const browser = await launchBrowser();
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      await tab.goto(`${base}/`);
      expect(await tab.locator('h1').innerText()).toBe('Major outage');
      expect(await tab.locator('.comp .state').first().innerText()).toContain('Major outage');
      expect(await tab.locator('.active .incident h3').innerText()).toBe('Outage of shop');
      expect(await tab.locator('.active .updates').innerText()).toContain('We are <b>restarting</b> the shop.');
      await saveScreenshot(tab, 'status-page-major-outage');
      expect(await checkAccessibility(tab)).toEqual([]);
      await tab.emulateMedia({ colorScheme: 'dark' });
      await tab.setViewportSize({ width: 390, height: 844 });
      await saveScreenshot(tab, 'status-page-major-outage-phone-dark');
      expect(await checkAccessibility(tab)).toEqual([]);
      // The CSP blocks nothing the page needs: no script, the stylesheet from 'self'.
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);
});
