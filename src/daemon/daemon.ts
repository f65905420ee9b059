import { join } from 'node:path';
import type { Logger } from '../core/logger.js';
import { errorMessage, isBulwarkError } from '../core/errors.js';
import { formatFinding, loadValidConfig, redactConfig, redactConfigText, type BulwarkConfig, type Finding, type LoadedConfig } from '../config/index.js';
import { LATEST_SCHEMA_VERSION, openStore, type Store } from '../store/index.js';
import { ClusterService } from '../cluster/index.js';
import { createMetricsRegistry, registerCoreMetrics, type CoreMetrics } from '../metrics/index.js';
import { ApiServer, FailureThrottle, clusterRoutes, backupRoutes, databaseRoutes, drillRoutes, gatewayRoutes, poolerRoutes, redisRoutes, incidentLinkRoutes, incidentRoutes, probeRoutes, serviceRoutes } from '../api/index.js';
import { AlertingService } from '../alerting/index.js';
import { StatusPageServer } from '../status/index.js';
import { dashboardRoutes, etcdSwitchover } from '../dashboard/index.js';
import { EventBus } from '../events/index.js';
import { ProbeEngine, type ProbeEvents } from '../probes/index.js';
import { SloReporter } from '../slo/index.js';
import { Gateway } from '../gateway/index.js';
// Gateway routing to the database primary (src/gateway/database-services.ts):
import { primaryTrackerFactory } from '../postgres-ha/index.js';
import { masterTrackerFactory, RedisHaService } from '../redis-ha/index.js';
import { createBackupScheduler, type BackupScheduler } from '../backup/index.js';
import { DatabaseHaService, PoolerService, type DatabaseHaEvents } from '../postgres-ha/index.js';
import { DrillScheduler, childLauncher } from '../drills/index.js';
import type { Registry } from 'prom-client';
import { ConfigWatcher } from './config-watcher.js';
import { Lifecycle, type Subsystem } from '../core/lifecycle.js';

export interface DaemonOptions {
  configFile: string;
  dataDir: string;
  log: Logger;
  version: string;
  /** How to run this program again, for drills in child processes; by default this process's node, flags and script. */
  selfCommand?: string[];
  /** Overrides api.listen (tests use 127.0.0.1:0). */
  listen?: string;
  watch?: boolean;
  env?: NodeJS.ProcessEnv;
  /** `--node`: this host's name: its member name in a cluster (cluster.member, else the host name) and which PostgreSQL members it runs (postgres-ha's member-selection.ts; by default those on its own addresses). */
  node?: string;
}

export type ReloadResult = { result: 'applied' | 'unchanged' } | { result: 'rejected'; findings: Finding[]; error: string };

/** `bulwark up`: the store, the probes, the SLO reporter, the gateway, the backup scheduler and the API, under one lifecycle; later subsystems join the same list. */
export class Daemon {
  private loaded!: LoadedConfig & { config: BulwarkConfig };
  private appliedAt = new Date();
  private store!: Store;
  private lifecycle!: Lifecycle<BulwarkConfig>;
  private api!: ApiServer;
  private readonly registry: Registry;
  private readonly metrics: CoreMetrics;
  private watcher: ConfigWatcher | undefined;
  private probes!: ProbeEngine;
  private slo!: SloReporter;
  private gateway!: Gateway;
  private backups!: BackupScheduler;
  private databases!: DatabaseHaService;
  private poolers!: PoolerService;
  private redis!: RedisHaService;
  private alerting!: AlertingService;
  private drills!: DrillScheduler;
  private statusPage!: StatusPageServer;
  /** Refused API tokens and dashboard sign-ins, counted together per client address. */
  private authThrottle!: FailureThrottle;
  private readonly dashboardStopping = new AbortController();
  readonly bus: EventBus<ProbeEvents & DatabaseHaEvents>;
  private reloading: Promise<ReloadResult> | undefined;
  /** Membership and duty leases in etcd; undefined without `cluster:` (every duty runs here). */
  private cluster: ClusterService | undefined;

  constructor(private readonly options: DaemonOptions) {
    this.registry = createMetricsRegistry(options.version);
    this.metrics = registerCoreMetrics(this.registry);
    this.bus = new EventBus<ProbeEvents & DatabaseHaEvents>((event, err) => options.log.error({ event, err: errorMessage(err) }, 'event listener failed'));
  }

  get config(): BulwarkConfig {
    return this.loaded.config;
  }

  async start(): Promise<void> {
    const log = this.options.log;
    this.loaded = await loadValidConfig(this.options.configFile, { env: this.options.env });
    for (const finding of this.loaded.findings) log.warn({ finding: formatFinding(finding) }, 'configuration warning');
    // Before the store: a member whose schema differs from the running members' must not migrate a shared store.
    this.cluster = await this.joinCluster();
    this.store = await openStore({ dataDir: this.options.dataDir, postgres: this.loaded.config.store?.postgres });
    try {
      const migrated = await this.store.migrate();
      log.info({ store: this.loaded.config.store?.postgres ? 'postgres' : join(this.options.dataDir, 'bulwark.db'), ...migrated }, 'store ready');
      await this.recordRevision();
      this.probes = new ProbeEngine({
        config: this.loaded.config, log: log.child({ subsystem: 'probes' }), bus: this.bus, history: this.store, registry: this.registry,
      });
      this.slo = new SloReporter(this.loaded.config, this.store, this.registry, log.child({ subsystem: 'slo' }));
      this.bus.on('owner.state', () => this.slo.invalidate());
      // Each database with postgres.listen gets a tracker of its primary, each with redis.listen a tracker of its Sentinels' master.
      const postgresPrimaries = primaryTrackerFactory({ log: log.child({ subsystem: 'postgres-ha' }) });
      const redisMasters = masterTrackerFactory({ log: log.child({ subsystem: 'redis-ha' }) });
      this.gateway = new Gateway(this.loaded.config, this.bus, this.registry, log.child({ subsystem: 'gateway' }), {
        primaries: (database, config) => (config.databases[database]?.redis ? redisMasters(database, config) : postgresPrimaries(database, config)),
      });
      // Idle (no timers, no metrics) until the configuration has backup policies; a reload can add some.
      this.backups = await createBackupScheduler({ config: this.loaded.config, store: this.store, registry: this.registry, log: log.child({ subsystem: 'backup' }) });
      // PostgreSQL members on this host (data_dir) under their HA loops; idle without any, or without etcd.
      this.databases = new DatabaseHaService({
        config: this.loaded.config, bus: this.bus, registry: this.registry, events: this.store, log: log.child({ subsystem: 'postgres-ha' }), node: this.options.node,
      });
      // PgBouncer in front of the primary of each database with postgres.pooler; idle without any.
      this.poolers = new PoolerService({ config: this.loaded.config, registry: this.registry, log: log.child({ subsystem: 'pooler' }) });
      // Redis members and Sentinels on this host (data_dir) as supervised children; adopted Sentinels are only asked.
      this.redis = new RedisHaService({ config: this.loaded.config, log: log.child({ subsystem: 'redis-ha' }) });
      // Incidents from what the others see (events, metrics, the store); idle without an alerting section.
      this.alerting = new AlertingService({
        config: this.loaded.config, store: this.store, bus: this.bus, registry: this.registry, log: log.child({ subsystem: 'alerting' }),
        probes: this.probes, apiUrl: () => this.apiUrl(),
      });
      // dr_testing on its schedules; each drill in a child process (src/drills/launch.ts says why).
      this.drills = new DrillScheduler({
        config: this.loaded.config, dataDir: this.options.dataDir, store: this.store, log: log.child({ subsystem: 'drills' }),
        launch: childLauncher({
          command: this.options.selfCommand ?? [process.execPath, ...process.execArgv, process.argv[1]!],
          configFile: this.loaded.file, dataDir: this.options.dataDir, env: this.options.env, log: log.child({ subsystem: 'drills' }),
        }),
      });
      this.authThrottle = new FailureThrottle(log.child({ subsystem: 'auth' }));
      // The public status page on its own listener; idle without a status_page section.
      this.statusPage = new StatusPageServer({
        config: this.loaded.config, probes: this.probes, store: this.store, log: log.child({ subsystem: 'status-page' }),
        // Subscribers' emails and webhooks go through alerting's outbox; the status page queues them.
        subscriptions: { store: this.store, queued: () => this.alerting.outboxChanged() },
      });
      this.api = new ApiServer(this.options.listen ?? this.loaded.config.api.listen, this.apiDependencies(), log.child({ subsystem: 'api' }), this.options.listen === undefined ? 'api.listen' : '--listen');
      // The API stops first (reverse order): no new agent results arrive while the probes drain,
      // and no backup is started while the scheduler aborts the one in flight.
      // In a cluster the singleton duties run only on the daemon holding each one's etcd lease.
      const duty = <T extends Subsystem<BulwarkConfig>>(inner: T) => this.cluster?.duty(inner) ?? inner;
      this.lifecycle = new Lifecycle<BulwarkConfig>([
        this.probes, this.slo, this.gateway, duty(this.backups), this.databases, this.poolers, this.redis, duty(this.alerting), duty(this.drills), this.statusPage, this.api,
      ], log);
      await this.lifecycle.start();
    } catch (err) {
      // A half-started daemon must not keep the process alive (a PostgreSQL pool would).
      await this.store.close().catch(() => undefined);
      await this.cluster?.leave().catch(() => undefined);
      throw err;
    }
    this.metrics.configLoadedTimestamp.set(this.appliedAt.getTime() / 1000);
    if (this.options.watch !== false) {
      this.watcher = new ConfigWatcher(this.loaded.file, () => void this.reload('file change'));
      this.watcher.start();
    }
  }

  /** Load the file again; a configuration with errors is refused and the running one stays. */
  reload(reason: string): Promise<ReloadResult> {
    this.reloading ??= this.reloadOnce(reason).finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  async stop(drainMs: number): Promise<void> {
    this.watcher?.stop();
    // Open dashboard streams end first: the API's drain would otherwise wait its whole deadline on them.
    this.dashboardStopping.abort();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await this.lifecycle?.stop(drainMs);
    await this.cluster?.leave().catch((err: unknown) => this.options.log.warn({ err: errorMessage(err) }, 'could not leave the cluster; the member key expires with its lease'));
    await this.store?.close();
  }

  private async reloadOnce(reason: string): Promise<ReloadResult> {
    const log = this.options.log;
    try {
      const next = await loadValidConfig(this.options.configFile, { env: this.options.env });
      if (next.checksum === this.loaded.checksum) {
        this.metrics.configReloads.inc({ result: 'unchanged' });
        return { result: 'unchanged' };
      }
      await this.lifecycle.reload(next.config);
      this.loaded = next;
      this.appliedAt = new Date();
      this.metrics.configReloads.inc({ result: 'applied' });
      this.metrics.configLoadedTimestamp.set(this.appliedAt.getTime() / 1000);
      await this.recordRevision();
      log.info({ reason, checksum: next.checksum.slice(0, 12) }, 'configuration reloaded');
      return { result: 'applied' };
    } catch (err) {
      const findings = isBulwarkError(err) ? ((err.context.findings as Finding[] | undefined) ?? []) : [];
      this.metrics.configReloads.inc({ result: 'rejected' });
      log.error({ reason, error: errorMessage(err), findings: findings.map(formatFinding) }, 'configuration rejected; the running configuration stays in effect');
      return { result: 'rejected', findings, error: errorMessage(err) };
    }
  }

  private joinCluster(): Promise<ClusterService | undefined> {
    return ClusterService.join({
      config: this.loaded.config, node: this.options.node, version: this.options.version, schemaVersion: LATEST_SCHEMA_VERSION,
      apiAddress: this.options.listen ?? this.loaded.config.api.listen, log: this.options.log.child({ subsystem: 'cluster' }),
    });
  }

  /** Every configuration applied is kept (inline secrets redacted); a restart on the same file adds nothing. */
  private async recordRevision(): Promise<void> {
    if ((await this.store.latestConfigRevision())?.checksum === this.loaded.checksum) return;
    await this.store.recordConfigRevision({ checksum: this.loaded.checksum, source: this.loaded.file, text: redactConfigText(this.loaded.text) });
  }

  /** The admin API as links in notifications reach it when alerting.public_url is not set. */
  private apiUrl(): string {
    const { host, port } = this.api.address();
    const reachable = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
    return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
  }

  /** The operator dashboard at /ui: its own session guard, the same subsystems as the API routes. */
  private dashboard() {
    return dashboardRoutes({
      store: this.store, log: this.options.log.child({ subsystem: 'dashboard' }), config: () => this.loaded.config,
      probes: this.probes, slo: this.slo, gateway: this.gateway, backups: this.backups, databases: this.databases,
      incidents: this.alerting.actions, bus: this.bus, throttle: this.authThrottle, switchover: etcdSwitchover(() => this.loaded.config),
      stopping: this.dashboardStopping.signal,
    });
  }

  private apiDependencies() {
    return {
      store: this.store,
      registry: this.registry,
      metrics: this.metrics,
      log: this.options.log.child({ subsystem: 'api' }),
      isReady: () => this.lifecycle.isReady(),
      extraMetrics: () => this.gateway.workerMetrics(),
      currentConfig: () => ({
        file: this.loaded.file,
        checksum: this.loaded.checksum,
        appliedAt: this.appliedAt.toISOString(),
        config: redactConfig(this.loaded.config, this.loaded.secrets),
      }),
      routes: [
        { path: '/', app: probeRoutes(this.probes) },
        { path: '/', app: serviceRoutes(this.probes, this.slo) },
        { path: '/', app: gatewayRoutes({ gateway: this.gateway, store: this.store, log: this.options.log.child({ subsystem: 'gateway-admin' }) }) },
        { path: '/', app: backupRoutes(this.backups) },
        { path: '/', app: databaseRoutes(this.databases) },
        { path: '/', app: poolerRoutes(this.poolers) },
        { path: '/', app: redisRoutes(this.redis) },
        { path: '/', app: clusterRoutes(this.cluster) },
        { path: '/', app: incidentRoutes(this.alerting.actions) },
        { path: '/', app: drillRoutes({ runs: this.store.drillRuns, schedule: () => this.drills.status() }) },
      ],
      // Signed one-click links from notifications: the signature is their authentication, not a token.
      publicRoutes: [{ path: '/links', app: incidentLinkRoutes(this.alerting.actions) }, { path: '/ui', app: this.dashboard() }],
      authThrottle: this.authThrottle,
      status: () => ({
        state: this.lifecycle.state.kind,
        version: this.options.version,
        config: { file: this.loaded.file, checksum: this.loaded.checksum, appliedAt: this.appliedAt.toISOString() },
        services: Object.keys(this.loaded.config.services),
        databases: Object.keys(this.loaded.config.databases),
        gateway: this.gateway.snapshot(),
      }),
    };
  }
}
