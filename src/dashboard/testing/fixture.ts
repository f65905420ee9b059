import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import type { Incident, IncidentActions, IncidentDetail } from '../../alerting/index.js';
import { createApiApp, FailureThrottle } from '../../api/index.js';
import { generateToken } from '../../auth/index.js';
import { parseConfigText, type BulwarkConfig } from '../../config/index.js';
import { BulwarkError } from '../../core/errors.js';
import { EventBus } from '../../events/index.js';
import { EndpointPool } from '../../gateway/index.js';
import { createMetricsRegistry, registerCoreMetrics } from '../../metrics/index.js';
import type { ProbeEvents } from '../../probes/index.js';
import { openSqliteStore, type Store } from '../../store/index.js';
import { memoryLogger } from '../../testing/memory-logger.js';
import { dashboardRoutes, type DashboardDeps } from '../index.js';

export const EVIL = '<script>alert(1)</script>';

const CONFIG = `name: dash
sla_tiers:
  gold: { availability: 99.9%, rto: 1m, rpo: 1h }
zones:
  z1: { region: r1 }
services:
  api:
    tier: gold
    endpoints:
      - { url: http://127.0.0.1:1, zone: z1 }
      - { url: http://127.0.0.1:2, zone: z1 }
`;

export function testConfig(): BulwarkConfig {
  const loaded = parseConfigText(CONFIG, 'test.yaml', { resolveSecrets: false });
  if (!loaded.config) throw new Error(`bad test config: ${JSON.stringify(loaded.findings)}`);
  return loaded.config as BulwarkConfig;
}

function incident(id: number, o: Partial<Incident> = {}): Incident {
  return {
    id, key: `k${id}`, rule: 'api:service_down', severity: 'critical', title: `api is down ${EVIL}`, state: 'triggered',
    policy: 'critical', labels: { service: 'api' }, alerts: ['service/api'], openedAt: 1_700_000_000_000, acknowledgedAt: null, acknowledgedBy: null,
    resolvedAt: null, resolvedBy: null, owner: null, nextLevel: 0, cycle: 0, nextAt: null, clearSince: null, flapping: false,
    rootCause: null, resolution: null, reminderAt: null, updatedAt: 1_700_000_000_000, ...o,
  };
}

/** Incidents in memory; notes land on the timeline so pages can show them. */
export class FakeIncidents implements Partial<IncidentActions> {
  readonly incidents = new Map<number, Incident>([[1, incident(1)]]);
  readonly notes: Array<{ id: number; actor: string; text: string }> = [];
  readonly calls: string[] = [];
  async list(q: { states?: Incident['state'][]; limit: number }): Promise<Incident[]> {
    return [...this.incidents.values()].filter((i) => !q.states || q.states.includes(i.state));
  }
  async detail(id: number): Promise<IncidentDetail> {
    const found = this.get(id);
    const timeline = [{ id: 1, incidentId: id, kind: 'opened', actor: 'bulwark', at: found.openedAt },
      ...this.notes.filter((n) => n.id === id).map((n, i) => ({ id: i + 2, incidentId: id, kind: 'note', actor: n.actor, at: found.openedAt + 1, data: { text: n.text } }))];
    return { incident: found, timeline, notifications: [], vars: {} };
  }
  async acknowledge(id: number, actor: string): Promise<Incident> {
    this.calls.push(`ack ${id} ${actor}`);
    return this.patch(id, { state: 'acknowledged', acknowledgedBy: actor });
  }
  async resolve(id: number, actor: string, d?: { rootCause?: string; resolution?: string }): Promise<Incident> {
    this.calls.push(`resolve ${id} ${actor} ${d?.rootCause ?? ''}`);
    return this.patch(id, { state: 'resolved', resolvedBy: actor, rootCause: d?.rootCause ?? null });
  }
  async note(id: number, actor: string, text: string): Promise<Incident> {
    this.notes.push({ id, actor, text });
    return this.get(id);
  }
  private get(id: number): Incident {
    const found = this.incidents.get(id);
    if (!found) throw new BulwarkError('NOT_FOUND', `no incident ${id}`);
    return found;
  }
  private patch(id: number, p: Partial<Incident>): Incident {
    const next = { ...this.get(id), ...p };
    this.incidents.set(id, next);
    return next;
  }
}

const member = (name: string, role: string) => ({
  name, host: '127.0.0.1', port: 5432, local: false, health_port: null, snapshot: null,
  record: { role, timeline: 2, lsn: '0/3000060', fenced: false, state: 'running', following: role === 'replica' ? 'm1' : null, lag_bytes: role === 'replica' ? 128 : null, mod_revision: 7, at: null, age_ms: null },
});

const MAIN_DB = {
  name: 'main', kind: 'postgres' as const, failover: 'automatic' as const, managed_here: false, leader: 'm1', sync: null, etcd_revision: 9,
  members: [member('m1', 'primary'), member('m2', 'replica')],
  history: [{ kind: 'failover' as const, from: 'm2', to: 'm1', timeline: 2, at: '2026-12-01T10:00:00.000Z', duration_ms: 4200 }],
};

export interface Fixture {
  app: Hono;
  store: Store;
  token: string;
  pool: EndpointPool;
  bus: EventBus<ProbeEvents>;
  incidents: FakeIncidents;
  runs: string[];
  switchovers: string[];
  lines: Array<Record<string, unknown>>;
  clock: { now: number };
  close(): Promise<void>;
}

/** The API app with the dashboard mounted at /ui as the daemon mounts it: a real SQLite store, fakes for the subsystems. */
export async function dashboardFixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-dashboard-'));
  const store = await openSqliteStore({ path: join(dir, 'bulwark.db') });
  await store.migrate();
  const generated = generateToken();
  await store.createToken({ name: 'alice', hash: generated.hash, prefix: generated.prefix });
  const { log, lines } = memoryLogger();
  const pool = new EndpointPool([{ id: 'a1', url: 'http://127.0.0.1:1', zone: 'z1' }, { id: 'a2', url: 'http://127.0.0.1:2', zone: 'z1' }]);
  const bus = new EventBus<ProbeEvents>();
  const incidents = new FakeIncidents();
  const runs: string[] = [];
  const switchovers: string[] = [];
  const clock = { now: Date.now() };
  const throttle = new FailureThrottle(log, () => clock.now);
  const config = testConfig();
  const deps: DashboardDeps = {
    store, log, config: () => config, bus, throttle, now: () => clock.now, incidents: incidents as unknown as IncidentActions,
    probes: { vantage: 'local', ownerViews: () => [{ kind: 'service', name: 'api', status: 'up' }], targetViews: () => [] },
    // A name no configuration would accept, as if it had slipped through: the page must still escape it.
    slo: { owners: async () => [{ kind: 'service', name: 'api', tier: 'gold', target: 0.999, windows: null, computedAt: clock.now }, { kind: 'service', name: EVIL, tier: null, target: null, windows: null, computedAt: clock.now }] },
    gateway: { snapshot: () => ({ api: pool.snapshot() }), service: (n) => (n === 'api' ? { pool } : undefined) },
    backups: {
      status: () => [], walArchive: async () => [], history: async () => [],
      runNow: (policy) => {
        runs.push(policy);
        return { started: true, id: `run-${runs.length}`, kind: 'backup' };
      },
    },
    databases: { databases: async () => [MAIN_DB], database: async (n) => (n === 'main' ? MAIN_DB : undefined), databaseNames: () => ['main'] },
    switchover: async (database, to, actor) => {
      switchovers.push(`${database} ${to ?? '(best)'} ${actor}`);
      return { from: 'm1', to };
    },
  };
  const registry = createMetricsRegistry('test');
  const app = createApiApp({
    store, registry, metrics: registerCoreMetrics(registry), log, isReady: () => true, authThrottle: throttle,
    currentConfig: () => ({ file: 'x', checksum: 'x', appliedAt: 'x', config: {} }), status: () => ({}),
    publicRoutes: [{ path: '/ui', app: dashboardRoutes(deps) }],
  });
  return {
    app, store, token: generated.token, pool, bus, incidents, runs, switchovers, lines, clock,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
