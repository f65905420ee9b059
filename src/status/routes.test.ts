/* eslint-disable @typescript-eslint/no-explicit-any -- the JSON documents are read loosely, field by field */
import { gunzipSync } from 'node:zlib';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.js';
import { CONTENT_SECURITY_POLICY } from './routes.js';
import { StatusPageServer } from './server.js';
import { FakeProbes, incidentRecord, MemoryStatusStore, statusConfig } from './testing/fixtures.js';

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const HOUR = 3_600_000;
const SCRIPT = '<script>alert("x")</script>';

const CONFIG = {
  zones: { 'eu-1': { region: 'eu' } },
  services: {
    api: { endpoints: [{ url: 'http://10.9.8.7:8443', zone: 'eu-1' }, { url: 'http://10.9.8.6:8443', zone: 'eu-1' }] },
    web: { endpoints: [{ url: 'http://10.9.8.5:80' }] },
  },
  status_page: { title: `Acme ${SCRIPT}`, groups: { [`Core ${SCRIPT}`]: ['api'] }, rate_limit: 1000, public_url: 'https://status.example.com/' },
  maintenance_windows: [{ name: 'patching', services: ['web'], start: new Date(NOW + 2 * 86_400_000).toISOString(), duration: '1h' }],
};

function setup(config: Record<string, unknown> = CONFIG) {
  const probes = new FakeProbes().owner('service', 'api', 'down').target('service', 'api', 'a', 'down').target('service', 'api', 'b', 'down').owner('service', 'web', 'up');
  const store = new MemoryStatusStore()
    .change('service', 'api', 'up', NOW - 10 * 86_400_000).change('service', 'api', 'down', NOW - HOUR)
    .incident(incidentRecord({ id: 42, labels: { service: 'api', zone: 'eu-1' }, title: 'api down at http://10.9.8.7:8443: ECONNREFUSED', openedAt: NOW - HOUR }), [
      { kind: 'opened', actor: 'bulwark', at: NOW - HOUR, data: { summary: 'GET http://10.9.8.7:8443/health ECONNREFUSED' } },
      { kind: 'note', actor: 'ops', at: NOW - 30 * 60_000, data: { text: `Fix under way ${SCRIPT} & more`, public: true } },
      { kind: 'note', actor: 'ops', at: NOW - 20 * 60_000, data: { text: 'private: host 10.9.8.7 disk full', public: false } },
    ]);
  const server = new StatusPageServer({ config: statusConfig(config), probes, store, log: silentLogger(), now: () => NOW });
  const app = server.app();
  const get = (path: string, headers: Record<string, string> = {}, address = '192.0.2.1') =>
    app.request(path, { headers }, { incoming: { socket: { remoteAddress: address } } });
  return { get, server, store };
}

describe('the status page over HTTP', () => {
  it('serves the page with strict headers, an ETag and 304 for a matching If-None-Match', async () => {
    const { get } = setup();
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toBe("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    expect(res.headers.get('cache-control')).toBe('public, max-age=30');
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const html = await res.text();
    expect(html).toContain('Major outage');
    expect(html).not.toContain('<script');
    const again = await get('/', { 'If-None-Match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const json = await get('/api/v2/status.json');
    const tag = json.headers.get('etag')!;
    expect((await get('/api/v2/status.json', { 'If-None-Match': `W/${tag}, "other"` })).status).toBe(304);
  });

  it('escapes the title, group names and public notes, and never shows what is internal', async () => {
    const { get } = setup();
    const pages = await Promise.all(['/', '/incidents/42', '/history', '/history.rss', '/history.atom', '/api/v2/summary.json', '/api/v2/incidents.json'].map(async (p) => [p, await (await get(p)).text()] as const));
    for (const [path, body] of pages) {
      if (!path.endsWith('.json')) expect(body, path).not.toContain('<script>');
      for (const secret of ['10.9.8.7', '8443', 'ECONNREFUSED', 'private', 'disk full', 'eu-1', 'ops']) expect(body, `${path}: ${secret}`).not.toContain(secret);
    }
    const home = pages[0]![1];
    expect(home).toContain('Acme &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(home).toContain('Core &lt;script&gt;');
    expect(pages[1]![1]).toContain('Fix under way &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
  });

  it('answers Statuspage-shaped JSON', async () => {
    const { get } = setup();
    const summary = await (await get('/api/v2/summary.json')).json() as Record<string, any>;
    expect(summary.page).toMatchObject({ name: `Acme ${SCRIPT}`, url: 'https://status.example.com/', updated_at: new Date(NOW).toISOString() });
    expect(summary.page.id).toMatch(/^[0-9a-f]{12}$/);
    expect(summary.status).toEqual({ indicator: 'critical', description: 'Major outage' });
    const api = summary.components.find((c: any) => c.name === 'api');
    const group = summary.components.find((c: any) => c.group === true && c.components.includes(api.id));
    expect(api).toMatchObject({ id: 'service-api', status: 'major_outage', group: false, group_id: group.id });
    expect(group).toMatchObject({ name: `Core ${SCRIPT}`, status: 'major_outage' });
    expect(summary.incidents).toHaveLength(1);
    expect(summary.incidents[0]).toMatchObject({
      id: '42', name: 'Outage of api', status: 'investigating', impact: 'critical', resolved_at: null,
      created_at: new Date(NOW - HOUR).toISOString(), shortlink: 'https://status.example.com/incidents/42',
    });
    expect(summary.incidents[0].incident_updates.map((u: any) => [u.status, u.body])).toEqual([
      ['investigating', `Fix under way ${SCRIPT} & more`], ['investigating', 'We are investigating a disruption of api.'],
    ]);
    expect(summary.scheduled_maintenances[0]).toMatchObject({ name: 'patching', status: 'scheduled', impact: 'maintenance', scheduled_for: new Date(NOW + 2 * 86_400_000).toISOString() });
    expect(Object.keys(await (await get('/api/v2/status.json')).json() as object)).toEqual(['page', 'status']);
    expect((await (await get('/api/v2/components.json')).json() as any).components).toHaveLength(4);
    expect((await (await get('/api/v2/incidents.json')).json() as any).incidents[0].id).toBe('42');
    expect((await (await get('/api/v2/scheduled-maintenances.json')).json() as any).scheduled_maintenances).toHaveLength(1);
  });

  it('serves RSS 2.0 and Atom that a real XML parser reads, with the notes escaped once more inside', async () => {
    const { get } = setup();
    const rssRes = await get('/history.rss');
    expect(rssRes.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
    const rss = await rssRes.text();
    const atom = await (await get('/history.atom')).text();
    expect(XMLValidator.validate(rss)).toBe(true);
    expect(XMLValidator.validate(atom)).toBe(true);
    const parser = new XMLParser({ ignoreAttributes: false, processEntities: true, htmlEntities: false });
    const channel = parser.parse(rss).rss.channel;
    expect(channel.title).toBe(`Acme ${SCRIPT}: incident history`);
    expect(channel.item.link).toBe('https://status.example.com/incidents/42');
    expect(channel.item.description).toContain('Fix under way &lt;script&gt;');
    const feed = parser.parse(atom).feed;
    expect(feed.entry.title).toBe('Outage of api');
    expect(feed.entry.id).toBe('https://status.example.com/incidents/42');
  });

  it('draws a badge per component, and 404s for an unknown one', async () => {
    const { get } = setup();
    const res = await get('/badge/api.svg');
    expect(res.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
    const svg = await res.text();
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain('>api</text>');
    expect(svg).toContain('>major outage</text>');
    expect((await get('/badge/nope.svg')).status).toBe(404);
  });

  it('answers nothing of the admin API, and 404 pages for unknown paths', async () => {
    const { get } = setup();
    for (const path of ['/api/v1/status', '/api/v1/incidents', '/metrics', '/readyz', '/nope', '/incidents/999', '/api/v2/nope.json']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type'), path).toBe('text/html; charset=utf-8');
    }
    const post = await setup().server.app().request('/api/v1/tokens', { method: 'POST' }, { incoming: { socket: { remoteAddress: '192.0.2.9' } } });
    expect(post.status).toBe(404);
    expect(post.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(post.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
  });

  it('caches the stylesheet for long, under a versioned URL', async () => {
    const { get } = setup();
    const html = await (await get('/')).text();
    const href = /href="(\/static\/status\.css\?v=[0-9a-f]+)"/.exec(html)?.[1];
    expect(href).toBeDefined();
    const css = await get(href!);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await css.text()).toContain('prefers-color-scheme:dark');
  });

  it('answers 429 with Retry-After once a client address has used its requests, not others', async () => {
    const { get } = setup({ ...CONFIG, status_page: { title: 'x', rate_limit: 5 } });
    for (let i = 0; i < 5; i++) expect((await get('/api/v2/status.json')).status).toBe(200);
    const limited = await get('/api/v2/status.json');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await get('/api/v2/status.json', {}, '192.0.2.2')).status).toBe(200);
  });

  it('lists incidents by month in the history, with the months around it', async () => {
    const { get } = setup();
    const html = await (await get('/history?month=2026-12')).text();
    expect(html).toContain('Outage of api');
    expect(html).toContain('href="/history?month=2026-11"');
    expect(html).not.toContain('month=2027-01');
    const november = await (await get('/history?month=2026-11')).text();
    expect(november).toContain('No incidents reported this month.');
    expect(november).toContain('href="/history?month=2026-12"');
  });

  it('gzips for clients that accept it, under an ETag of its own', async () => {
    const { get } = setup();
    const plain = await get('/');
    const text = await plain.text();
    const zipped = await get('/', { 'Accept-Encoding': 'gzip, br' });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(zipped.headers.get('vary')).toBe('Accept-Encoding');
    expect(zipped.headers.get('etag')).not.toBe(plain.headers.get('etag'));
    expect(gunzipSync(Buffer.from(await zipped.arrayBuffer())).toString()).toBe(text);
    expect((await get('/', { 'Accept-Encoding': 'gzip', 'If-None-Match': zipped.headers.get('etag')! })).status).toBe(304);
  });

  it('redirects status_page.path to the root', async () => {
    const { get } = setup();
    const res = await get('/status');
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/');
  });
});
