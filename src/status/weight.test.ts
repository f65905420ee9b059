import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.js';
import { openSqliteStore, type Store } from '../store/index.js';
import { prng } from '../testing/prng.js';
import { StatusPageServer } from './server.js';
import { FakeProbes, statusConfig } from './testing/fixtures.js';

/**
 * The weight budget: well under 100 KB a page for 50 components with
 * 90 days of history, measured on a real SQLite store.
 */

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const DAY = 86_400_000;
const COMPONENTS = 50;

function config() {
  const zones = { 'eu-1': { region: 'eu-west' }, 'eu-2': { region: 'eu-west' }, 'us-1': { region: 'us-east' } };
  const services = Object.fromEntries(Array.from({ length: COMPONENTS }, (_, i) => [`service-${String(i).padStart(2, '0')}`, {
    endpoints: [{ url: `http://10.0.${i}.1:8080`, zone: i % 2 ? 'eu-1' : 'us-1' }, { url: `http://10.0.${i}.2:8080`, zone: i % 2 ? 'eu-2' : 'us-1' }],
  }]));
  return statusConfig({ regions: { 'eu-west': {}, 'us-east': {} }, zones, services, status_page: { title: 'Acme Cloud' } });
}

/**
 * 90 days per component: up from the start, then an outage of 1 to 60 minutes
 * every 2 to 8 days (about 18 days with downtime in 90: a bad quarter), or, for
 * the worst case, one every day.
 */
async function seed(store: Store, everyDay: boolean): Promise<number> {
  const random = prng(everyDay ? 2 : 1);
  let count = 0;
  for (let i = 0; i < COMPONENTS; i++) {
    const subject = `service-${String(i).padStart(2, '0')}`;
    await store.recordStateChange({ subjectKind: 'service', subject, from: 'unknown', to: 'up', at: NOW - 91 * DAY });
    for (let at = NOW - 90 * DAY + random() * DAY; at < NOW - DAY; at += everyDay ? DAY : (2 + random() * 6) * DAY) {
      const down = 60_000 + random() * 59 * 60_000;
      await store.recordStateChange({ subjectKind: 'service', subject, from: 'up', to: 'down', at });
      await store.recordStateChange({ subjectKind: 'service', subject, from: 'down', to: 'up', at: at + down });
      count += 2;
    }
  }
  return count;
}

async function measurePage(store: Store) {
  const server = new StatusPageServer({ config: config(), probes: new FakeProbes(), store, log: silentLogger(), now: () => NOW });
  await server.app().request('/', {}, { incoming: { socket: { remoteAddress: '192.0.2.1' } } });
  // The second render, from a fresh snapshot: the figure a running daemon sees every 5 s.
  const again = new StatusPageServer({ config: config(), probes: new FakeProbes(), store, log: silentLogger(), now: () => NOW });
  const started = performance.now();
  const res = await again.app().request('/', {}, { incoming: { socket: { remoteAddress: '192.0.2.1' } } });
  const html = await res.text();
  const ms = performance.now() - started;
  return { bytes: Buffer.byteLength(html), gzip: gzipSync(html).length, ms, html };
}

describe('page weight', () => {
  const dirs: string[] = [];
  const stores: Store[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function storeWith(everyDay: boolean): Promise<{ store: Store; changes: number }> {
    const dir = await mkdtemp(join(tmpdir(), 'bulwark-status-weight-'));
    dirs.push(dir);
    const store = await openSqliteStore({ path: join(dir, 'bulwark.db') });
    stores.push(store);
    await store.migrate();
    return { store, changes: await seed(store, everyDay) };
  }

  it('stays under 100 KB (under 20 KB gzipped, as sent) for 50 components × 90 days with an outage every few days', async () => {
    const { store, changes } = await storeWith(false);
    const page = await measurePage(store);
    process.stdout.write(`status page, 50 components × 90 days, ${changes} state changes: ${page.bytes} bytes (${page.gzip} gzipped), render ${page.ms.toFixed(0)} ms\n`);
    expect(page.html).toContain('service-49');
    expect((page.html.match(/class="comp"/g) ?? []).length).toBe(COMPONENTS);
    expect(page.bytes).toBeLessThan(100_000);
    expect(page.gzip).toBeLessThan(20_000);
  }, 60_000);

  it('is measured too when every one of the 90 days had downtime (the worst case: a tooltip per day)', async () => {
    const { store, changes } = await storeWith(true);
    const page = await measurePage(store);
    process.stdout.write(`status page, worst case (downtime every day), ${changes} state changes: ${page.bytes} bytes (${page.gzip} gzipped), render ${page.ms.toFixed(0)} ms\n`);
    expect(page.gzip).toBeLessThan(100_000);
  }, 60_000);
});
