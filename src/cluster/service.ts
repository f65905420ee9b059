import { hostname } from 'node:os';
import { BulwarkError } from '../core/errors.js';
import type { Subsystem } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { EtcdClient, type EtcdClientOptions } from '../coordination/index.js';
import type { BulwarkConfig } from '../config/index.js';
import { Duty, type DutyState } from './duty.js';
import { clusterKeys, type ClusterKeys } from './keys.js';
import { Membership } from './membership.js';
import { readClusterStatus, type ClusterStatus } from './status.js';

export interface ClusterJoinOptions {
  config: BulwarkConfig;
  /** `bulwark up --node`: this daemon's member name, over cluster.member and the host name. */
  node?: string;
  version: string;
  /** The store schema this daemon's code migrates to (store's LATEST_SCHEMA_VERSION). */
  schemaVersion: number;
  /** The API address this daemon listens on, when cluster.address does not say how to reach it. */
  apiAddress: string;
  log: Logger;
  createEtcd?: (options: EtcdClientOptions) => EtcdClient;
}

export interface ClusterView extends ClusterStatus {
  self: string;
  /** This daemon's own view of each duty: running here, standing by, fencing. */
  local: Record<string, DutyState>;
}

/**
 * This daemon as one member of a cluster: its membership entry in etcd and
 * the leases of the singleton duties it may run. Joined before the store is
 * migrated (a member with another schema must not migrate a shared store);
 * absent without `cluster:`, when every duty runs here.
 */
export class ClusterService {
  private readonly duties = new Map<string, Duty<BulwarkConfig>>();

  private constructor(
    private readonly etcd: EtcdClient,
    private readonly keys: ClusterKeys,
    private readonly membership: Membership,
    private readonly ttlSeconds: number,
    private readonly log: Logger,
  ) {}

  /** Undefined without `cluster:`: the caller runs every duty itself. */
  static async join(o: ClusterJoinOptions): Promise<ClusterService | undefined> {
    const cluster = o.config.cluster;
    if (!cluster) return undefined;
    const settings = o.config.coordination?.etcd;
    if (!settings) throw new BulwarkError('CONFIG_INVALID', 'cluster is set, but coordination.etcd is not', { hint: 'add coordination.etcd, or remove cluster:' });
    const etcd = (o.createEtcd ?? ((options) => new EtcdClient(options)))({ endpoints: settings.endpoints, username: settings.username, password: settings.password });
    const keys = clusterKeys(settings.prefix);
    const ttlSeconds = Math.max(2, Math.round(cluster.lease_ttl / 1000));
    const name = o.node ?? cluster.member ?? hostname();
    const log = o.log.child({ member: name });
    try {
      const membership = await Membership.join({
        etcd, keys, ttlSeconds, log,
        self: { name, version: o.version, schemaVersion: o.schemaVersion, address: cluster.address ?? o.apiAddress, started: new Date().toISOString(), pid: process.pid },
      });
      log.info({ ttlSeconds }, 'joined the cluster');
      return new ClusterService(etcd, keys, membership, ttlSeconds, log);
    } catch (err) {
      await etcd.close().catch(() => undefined);
      throw err;
    }
  }

  get member(): string {
    return this.membership.self.name;
  }

  /** The subsystem as a singleton duty: it runs only while this daemon holds the duty's lease. */
  duty<T extends Subsystem<BulwarkConfig>>(inner: T): Subsystem<BulwarkConfig> {
    const duty = new Duty<BulwarkConfig>({ inner, etcd: this.etcd, key: this.keys.duty(inner.name), member: this.member, ttlSeconds: this.ttlSeconds, log: this.log });
    this.duties.set(inner.name, duty);
    return duty;
  }

  async status(): Promise<ClusterView> {
    const status = await readClusterStatus(this.etcd, this.keys, [...this.duties.keys()]);
    return { ...status, self: this.member, local: Object.fromEntries([...this.duties].map(([name, duty]) => [name, duty.state])) };
  }

  /** After the duties have stopped: the member key goes now rather than at the TTL. */
  async leave(): Promise<void> {
    await this.membership.leave();
    await this.etcd.close().catch(() => undefined);
  }
}

/** `bulwark cluster status` without a daemon: read etcd as the configuration names it. */
export async function readClusterStatusOf(config: BulwarkConfig, timeoutMs = 2000): Promise<ClusterStatus> {
  const settings = config.coordination?.etcd;
  if (!config.cluster || !settings) {
    throw new BulwarkError('USAGE', 'this configuration has no cluster: every duty runs in the one daemon', { hint: 'add cluster: and coordination.etcd to run several daemons' });
  }
  const etcd = new EtcdClient({ endpoints: settings.endpoints, username: settings.username, password: settings.password, timeoutMs });
  try {
    return await readClusterStatus(etcd, clusterKeys(settings.prefix), undefined, timeoutMs);
  } finally {
    await etcd.close().catch(() => undefined);
  }
}
