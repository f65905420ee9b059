/**
 * Fakes for DatabaseHaService unit tests: a member manager that records what it
 * was asked and emits what the test tells it to, and an etcd that serves keys
 * from a map. Real managers and etcd are in the `*.ha.test.ts` integration tests.
 */
import { EventEmitter } from 'node:events';
import { Registry } from 'prom-client';
import type { EtcdClient, GetResult } from '../coordination/index.js';
import { parseConfigText, type BulwarkConfig } from '../config/index.js';
import { EventBus } from '../events/index.js';
import {
  DatabaseHaService,
  type DatabaseHaEvents, type MemberManagerEvents, type MemberManagerOptions, type MemberSnapshot, type ReconfigurableSettings,
} from '../postgres-ha/index.js';
import type { NewEvent } from '../store/index.js';
import { memoryLogger } from './memory-logger.js';

export class FakeManager extends EventEmitter<MemberManagerEvents> {
  readonly name: string;
  readonly calls: string[] = [];
  readonly reconfigured: ReconfigurableSettings[] = [];
  current: MemberSnapshot;

  constructor(readonly options: MemberManagerOptions) {
    super();
    this.name = `postgres-ha:${options.pg.name}`;
    this.current = {
      name: options.pg.name, role: 'replica', leader: false, fenced: false, state: 'starting', timeline: 1, lsn: '0/3000000',
      following: undefined, lagBytes: 0,
    };
  }

  async start(): Promise<void> {
    this.calls.push('start');
  }

  async stop(): Promise<void> {
    this.calls.push('stop');
  }

  reconfigure(next: ReconfigurableSettings): void {
    this.reconfigured.push(next);
  }

  snapshot(): MemberSnapshot {
    return this.current;
  }
}

export class FakeEtcd {
  readonly keys = new Map<string, string>();
  closed = false;
  failing: Error | undefined;

  async get(key: string): Promise<GetResult> {
    if (this.failing) throw this.failing;
    const value = this.keys.get(key);
    return { kv: value === undefined ? undefined : { key, value, modRevision: 1, createRevision: 1, version: 1, lease: undefined }, revision: 1 };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export function configFrom(yaml: string): BulwarkConfig {
  const loaded = parseConfigText(yaml, 'test.yaml', { env: {}, lint: false });
  if (!loaded.config) throw new Error(`fixture does not pass the schema: ${JSON.stringify(loaded.findings, null, 2)}`);
  return loaded.config;
}

/** A service over fakes, with everything it produced kept for assertions. */
export function fakeService(config: BulwarkConfig) {
  const managers: FakeManager[] = [];
  const etcds: Array<{ etcd: FakeEtcd; options: unknown }> = [];
  const published: Array<{ event: string; payload: unknown }> = [];
  const stored: NewEvent[] = [];
  const logger = memoryLogger();
  const registry = new Registry();
  const bus = new EventBus<DatabaseHaEvents>();
  for (const event of ['database.promoted', 'database.fenced', 'database.rejoined', 'database.failover'] as const) {
    bus.on(event, (payload) => published.push({ event, payload }));
  }
  const service = new DatabaseHaService({
    config, bus, registry, log: logger.log,
    events: { appendEvent: async (e) => {
      stored.push(e);
      return { id: stored.length, at: new Date().toISOString(), data: null, ...e };
    } },
    createManager: (options) => {
      const m = new FakeManager(options);
      managers.push(m);
      return m;
    },
    createEtcd: (options) => {
      const etcd = new FakeEtcd();
      etcds.push({ etcd, options });
      return etcd as unknown as EtcdClient;
    },
    resolveRuntime: async () => ({ binDir: '/usr/lib/postgresql/16/bin', runAs: undefined }),
    lockDataDir: async () => ({ release: async () => undefined }),
  });
  const manager = (name: string): FakeManager => {
    const found = managers.filter((m) => m.options.pg.name === name).at(-1);
    if (!found) throw new Error(`no manager for ${name}`);
    return found;
  };
  return { service, managers, manager, etcds, published, stored, logger, registry };
}
