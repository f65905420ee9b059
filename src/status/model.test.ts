import { describe, expect, it } from 'vitest';
import { buildSnapshot } from './model.js';
import { overallStatus } from './components.js';
import { dailyUptime, DAY_MS, historyStart } from './uptime.js';
import { publicUpdates } from './incidents.js';
import { FakeProbes, incidentRecord, MemoryStatusStore, statusConfig } from './testing/fixtures.js';

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const HOUR = 3_600_000;

const CONFIG = {
  name: 'acme',
  regions: { eu: {}, us: {} },
  zones: { 'eu-1': { region: 'eu' }, 'eu-2': { region: 'eu' }, 'us-1': { region: 'us' } },
  services: {
    api: { endpoints: [{ url: 'http://10.0.0.1:8080', zone: 'eu-1' }, { url: 'http://10.0.0.2:8080', zone: 'eu-2' }, { url: 'http://10.0.0.3:8080', zone: 'eu-2' }] },
    web: { endpoints: [{ url: 'http://10.0.1.1:80', zone: 'us-1' }, { url: 'http://10.0.1.2:80', zone: 'us-1' }] },
    cdn: { endpoints: [{ url: 'http://10.0.2.1:80', zone: 'eu-1' }, { url: 'http://10.0.2.2:80', zone: 'us-1' }] },
  },
  databases: { 'main-db': { postgres: { members: [{ name: 'pg-a', host: 'db-secret-host.internal', port: 5432, zone: 'eu-1' }] } } },
  status_page: { title: 'Acme status' },
};

function snapshot(config: Record<string, unknown>, probes = new FakeProbes(), store = new MemoryStatusStore(), now = NOW) {
  return buildSnapshot({ config: statusConfig(config), probes, store, now });
}

describe('component states', () => {
  it('are operational, degraded, partial or major from the probes', async () => {
    const probes = new FakeProbes()
      .owner('service', 'api', 'up').target('service', 'api', 'a', 'down').target('service', 'api', 'b', 'up').target('service', 'api', 'c', 'up')
      .owner('service', 'web', 'up').target('service', 'web', 'a', 'down').target('service', 'web', 'b', 'up')
      .owner('service', 'cdn', 'down').target('service', 'cdn', 'a', 'down').target('service', 'cdn', 'b', 'down')
      .owner('database', 'main-db', 'up').target('database', 'main-db', 'pg-a', 'up');
    const snap = await snapshot(CONFIG, probes);
    expect(Object.fromEntries(snap.components.map((c) => [c.name, c.status]))).toEqual({
      api: 'degraded_performance', web: 'partial_outage', cdn: 'major_outage', 'main-db': 'operational',
    });
    expect(snap.overall).toEqual({ indicator: 'critical', description: 'Major outage' });
  });

  it('take open incidents into account: critical is at least a partial outage, warning at least degraded', async () => {
    const store = new MemoryStatusStore()
      .incident(incidentRecord({ id: 1, severity: 'critical', labels: { service: 'api' }, openedAt: NOW - HOUR }))
      .incident(incidentRecord({ id: 2, severity: 'warning', labels: { database: 'main-db' }, openedAt: NOW - HOUR }))
      .incident(incidentRecord({ id: 3, severity: 'critical', labels: { service: 'web' }, state: 'resolved', openedAt: NOW - 2 * HOUR, resolvedAt: NOW - HOUR }))
      .incident(incidentRecord({ id: 4, severity: 'critical', labels: { policy: 'nightly', database: 'main-db' }, openedAt: NOW - HOUR }));
    const snap = await snapshot(CONFIG, new FakeProbes(), store);
    const status = Object.fromEntries(snap.components.map((c) => [c.name, c.status]));
    expect(status).toMatchObject({ api: 'partial_outage', 'main-db': 'degraded_performance', web: 'operational' });
    expect(snap.active.map((i) => i.id)).toEqual([1, 2]);
    expect(snap.incidents.map((i) => i.id).sort()).toEqual([1, 2, 3]);
  });

  it('are under maintenance while a window naming them is in progress', async () => {
    const config = { ...CONFIG, maintenance_windows: [{ name: 'patching', services: ['api'], start: new Date(NOW - HOUR).toISOString(), duration: '2h' }, { name: 'later', services: ['web'], start: new Date(NOW + 2 * DAY_MS).toISOString(), duration: '1h' }] };
    const snap = await snapshot(config, new FakeProbes().owner('service', 'api', 'down'));
    expect(snap.components.find((c) => c.name === 'api')?.status).toBe('under_maintenance');
    expect(snap.overall.indicator).toBe('maintenance');
    expect(snap.maintenance.map((m) => [m.name, m.status])).toEqual([['patching', 'in_progress'], ['later', 'scheduled']]);
  });

  it('the headline follows the worst state', () => {
    expect(overallStatus(['operational']).description).toBe('All systems operational');
    expect(overallStatus(['operational', 'degraded_performance']).indicator).toBe('minor');
    expect(overallStatus(['partial_outage', 'under_maintenance']).description).toBe('Partial outage');
  });
});

describe('groups', () => {
  it('default to the region of the zones, "Multiple regions" when several', async () => {
    const snap = await snapshot(CONFIG);
    expect(snap.groups.map((g) => [g.name, g.components.map((c) => c.name)])).toEqual([
      ['eu', ['api', 'main-db']], ['us', ['web']], ['Multiple regions', ['cdn']],
    ]);
  });

  it('follow status_page.groups and services when set', async () => {
    const snap = await snapshot({ ...CONFIG, status_page: { title: 'x', services: ['web', 'api'], groups: { Frontend: ['web'] } } });
    expect(snap.components.map((c) => c.name)).toEqual(['web', 'api']);
    expect(snap.groups.map((g) => [g.name, g.components.map((c) => c.name)])).toEqual([['Frontend', ['web']], ['Other', ['api']]]);
  });
});

describe('uptime per day', () => {
  it('measures each UTC day, with days before any data as no data', () => {
    const start = historyStart(NOW, 5);
    const changes = [
      { at: start + 2 * DAY_MS, to: 'up' },
      { at: start + 3 * DAY_MS + 6 * HOUR, to: 'down' },
      { at: start + 3 * DAY_MS + 12 * HOUR, to: 'up' },
    ];
    const { days, uptime } = dailyUptime(changes, [], NOW, 5);
    expect(days.map((d) => d.availability)).toEqual([null, null, 1, 0.75, 1]);
    expect(days[3]?.downMs).toBe(6 * HOUR);
    expect(days[4]?.start).toBe(Math.floor(NOW / DAY_MS) * DAY_MS);
    // 60 h observed (the last day until noon), 6 h of it down.
    expect(uptime).toBeCloseTo(1 - 6 / 60, 10);
  });

  it('takes the state before the window from the store, and maintenance out', async () => {
    const store = new MemoryStatusStore().change('service', 'api', 'up', NOW - 200 * DAY_MS).change('service', 'api', 'down', NOW - 2 * HOUR);
    const config = { ...CONFIG, status_page: { title: 'x', history_days: 3 }, maintenance_windows: [{ name: 'm', services: ['api'], start: new Date(NOW - HOUR).toISOString(), duration: '1h' }] };
    const snap = await snapshot(config, new FakeProbes(), store);
    const api = snap.components.find((c) => c.name === 'api')!;
    expect(api.days).toHaveLength(3);
    expect(api.days[0]?.availability).toBe(1);
    expect(api.days[2]?.downMs).toBe(HOUR);
    expect(api.days[2]?.maintenanceMs).toBe(HOUR);
    expect(snap.components.find((c) => c.name === 'web')?.uptime).toBeNull();
    expect(store.reads).toBe(2);
  });
});

describe('the public view of incidents', () => {
  const secretIncident = () => incidentRecord({
    id: 7, severity: 'critical', state: 'acknowledged', labels: { service: 'api', tier: 'gold', zone: 'eu-1' },
    title: 'service down: api at http://10.0.0.1:8080 (ECONNREFUSED)', rule: 'api:service_down_secret_rule', openedAt: NOW - HOUR,
    rootCause: 'db-secret-host.internal:5432 full disk',
  });
  const events = [
    { kind: 'opened', actor: 'bulwark', at: NOW - HOUR, data: { subject: 'service/api/10.0.0.1:8080', summary: 'GET http://10.0.0.1:8080/health: connect ECONNREFUSED' } },
    { kind: 'note', actor: 'alice', at: NOW - 50 * 60_000, data: { text: 'internal: restarting pg on db-secret-host.internal', public: false } },
    { kind: 'acknowledged', actor: 'alice', at: NOW - 45 * 60_000 },
    { kind: 'note', actor: 'alice', at: NOW - 40 * 60_000, data: { text: 'We have found the cause and are fixing it.', public: true } },
    { kind: 'escalated', actor: 'bulwark', at: NOW - 30 * 60_000, data: { to: ['bob@example.com'] } },
  ];

  it('says only the component, words of its own and public notes', async () => {
    const snap = await snapshot(CONFIG, new FakeProbes(), new MemoryStatusStore().incident(secretIncident(), events));
    const incident = snap.active[0]!;
    expect(incident).toMatchObject({ id: 7, name: 'Outage of api', status: 'identified', impact: 'critical', components: ['api'] });
    expect(incident.updates.map((u) => [u.status, u.body])).toEqual([
      ['identified', 'We have found the cause and are fixing it.'],
      ['identified', 'The issue has been identified and is being worked on.'],
      ['investigating', 'We are investigating a disruption of api.'],
    ]);
    const text = JSON.stringify([snap.incidents, snap.active, snap.components.map((c) => [c.name, c.id, c.group])]);
    for (const secret of ['10.0.0.1', ':8080', 'ECONNREFUSED', 'secret', 'internal', 'gold', 'eu-1', 'alice', 'bob@', 'rule', 'http://']) {
      expect(text).not.toContain(secret);
    }
  });

  it('moves through monitoring to resolved', () => {
    const updates = publicUpdates([
      { id: 1, incidentId: 1, kind: 'opened', actor: 'bulwark', at: 1 },
      { id: 2, incidentId: 1, kind: 'alert_cleared', actor: 'bulwark', at: 2 },
      { id: 3, incidentId: 1, kind: 'recurred', actor: 'bulwark', at: 3 },
      { id: 4, incidentId: 1, kind: 'alert_cleared', actor: 'bulwark', at: 4 },
      { id: 5, incidentId: 1, kind: 'resolved', actor: 'bulwark', at: 5 },
    ], 'api');
    expect(updates.map((u) => u.status)).toEqual(['resolved', 'monitoring', 'investigating', 'monitoring', 'investigating']);
  });
});
