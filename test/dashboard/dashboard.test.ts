import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkAccessibility, launchBrowser, saveScreenshot } from '../../src/testing/browser.js';
import { createToken, freePort, Harness, startDaemon, waitFor } from '../daemon/helpers.js';

/**
 * The operator dashboard in real Chromium against `bulwark up`: sign in with
 * a token, drain an endpoint from the Services page and see the gateway stop
 * sending it traffic, run a backup from the Backups page, sign out; every page
 * screenshotted and checked with axe-core.
 */

const h = new Harness();
const servers: Server[] = [];
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => browser?.close());
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  await h.cleanup();
});

async function upstream(id: string): Promise<number> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(id));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function config(): Promise<{ yaml: string; listen: number }> {
  const dir = await h.tempDir();
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(join(dir, 'src', 'a.txt'), 'dashboard backup\n');
  const [e0, e1, listen] = [await upstream('e0'), await upstream('e1'), await freePort()];
  const yaml = `name: dashboard-e2e
sla_tiers:
  gold: { availability: 99%, rto: 5m, rpo: 24h }
zones:
  z0: { region: r1 }
  z1: { region: r1 }
services:
  api:
    tier: gold
    listen: 127.0.0.1:${listen}
    endpoints:
      - { url: "http://127.0.0.1:${e0}", name: e0, zone: z0 }
      - { url: "http://127.0.0.1:${e1}", name: e1, zone: z1 }
    health_check: { path: /health, interval: 200ms, timeout: 150ms, fall: 2, rise: 1 }
backups:
  repositories:
    local: { path: ${join(dir, 'repo')}, password: "\${env:TEST_SECRET}" }
  policies:
    files: { source: { paths: [${join(dir, 'src')}] }, schedule: daily at 03:00, copies: [local] }
`;
  return { yaml, listen };
}

async function accessible(page: Page, name: string): Promise<void> {
  await saveScreenshot(page, `dashboard-${name}`);
  expect(await checkAccessibility(page), name).toEqual([]);
}

describe('operator dashboard in Chromium (real daemon)', () => {
  it('signs in, drains an endpoint so the gateway stops sending it traffic, runs a backup now, signs out', async () => {
    const { yaml, listen } = await config();
    const daemon = await startDaemon(h, { yaml });
    const token = await createToken(h, daemon.dataDir, 'ops-alice');
    const gateway = async () => (await fetch(`http://127.0.0.1:${listen}/`, { signal: AbortSignal.timeout(5000) })).text();
    await waitFor(async () => (new Set(await Promise.all(Array.from({ length: 6 }, gateway))).size === 2 ? true : undefined), 'both endpoints serving');

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => (m.type() === 'error' ? errors.push(m.text()) : undefined));
    await page.goto(`${daemon.base}/ui`);
    expect(page.url()).toBe(`${daemon.base}/ui/login`);
    await accessible(page, 'login');
    await page.fill('#token', token);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${daemon.base}/ui`);
    expect(await page.textContent('h1')).toContain('Overview');
    expect(await page.textContent('.who')).toBe('ops-alice');
    await accessible(page, 'overview');

    await page.click('nav >> text=Services');
    await page.waitForSelector('h1:has-text("Services")');
    await accessible(page, 'services');
    await page.click('button:has-text("Drain e0")');
    await page.waitForSelector('.notice.ok');
    expect(await page.textContent('.notice')).toContain('api/e0: draining');
    expect(await page.textContent('[data-admin="e0"]')).toBe('draining');
    expect(new Set(await Promise.all(Array.from({ length: 20 }, gateway)))).toEqual(new Set(['e1']));
    await saveScreenshot(page, 'dashboard-services-drained');

    // Live updates: e0 dies; its status cell follows over Server-Sent Events, without a reload.
    const e0 = servers[0] as Server;
    e0.closeAllConnections();
    await new Promise((resolve) => e0.close(resolve));
    // A selector, not waitForFunction: the page's CSP forbids the eval a string predicate needs.
    const url = page.url();
    await page.waitForSelector('[data-status="target/service/api/e0"]:text-is("down")', { timeout: 15_000 });
    expect(page.url()).toBe(url);
    expect(await page.textContent('.notice')).toContain('api/e0: draining');

    await page.click('nav >> text=Backups');
    await page.waitForSelector('h1:has-text("Backups")');
    await page.click('button:has-text("Run files now")');
    await page.waitForSelector('.notice.ok');
    expect(await page.textContent('.notice')).toContain('backup of files started');
    await waitFor(async () => {
      await page.goto(`${daemon.base}/ui/backups`);
      return (await page.textContent('tbody tr'))?.includes('ok') ? true : undefined;
    }, 'the backup to finish', 30_000, 300);
    await accessible(page, 'backups');

    for (const name of ['Databases', 'Incidents', 'Plan', 'Events']) {
      await page.click(`nav >> text=${name}`);
      await page.waitForSelector('h1');
      await accessible(page, name.toLowerCase());
    }
    expect(await page.textContent('main')).toContain('endpoint.drain');

    await page.click('button:has-text("Sign out")');
    await page.waitForURL(`${daemon.base}/ui/login`);
    await page.goto(`${daemon.base}/ui/services`);
    expect(page.url()).toBe(`${daemon.base}/ui/login`);
    expect(errors.filter((e) => !e.includes('EventSource') && !e.includes('event-stream'))).toEqual([]);
  }, 120_000);
});
