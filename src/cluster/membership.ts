import { z } from 'zod';
import { BulwarkError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { LeaderLease, type EtcdClient } from '../coordination/index.js';
import type { ClusterKeys } from './keys.js';

export const memberInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  schemaVersion: z.number().int(),
  address: z.string(),
  started: z.string(),
  pid: z.number().int().optional(),
});

/** What each daemon writes about itself under its member key. */
export type MemberInfo = z.output<typeof memberInfoSchema>;

export type MembershipStore = Pick<EtcdClient, 'grantLease' | 'keepAliveOnce' | 'revokeLease' | 'get' | 'getPrefix' | 'createIfAbsent' | 'deleteIfRevision' | 'watch'>;

export interface MembershipOptions {
  etcd: MembershipStore;
  keys: ClusterKeys;
  self: MemberInfo;
  ttlSeconds: number;
  log: Logger;
}

/** The members etcd lists now; entries that do not parse are shown as such rather than dropped. */
export async function readMembers(etcd: Pick<EtcdClient, 'getPrefix'>, keys: ClusterKeys, timeoutMs = 2000): Promise<Array<MemberInfo & { leaseId?: string }>> {
  const kvs = await etcd.getPrefix(keys.membersPrefix, { timeoutMs });
  return kvs.map((kv) => {
    const parsed = memberInfoSchema.safeParse(safeJson(kv.value));
    const name = kv.key.slice(keys.membersPrefix.length);
    const info = parsed.success ? parsed.data : { name, version: 'unknown', schemaVersion: -1, address: '', started: '' };
    return { ...info, ...(kv.lease === undefined ? {} : { leaseId: kv.lease }) };
  });
}

/**
 * This daemon's entry among the members: a key bound to its own lease, kept
 * alive while the daemon runs. Joining is refused when a live member runs
 * another store schema version (the store is shared, and a newer daemon would
 * migrate it under the older ones) or already uses this member name.
 */
export class Membership {
  private readonly lease: LeaderLease;
  private readonly stopping = new AbortController();
  private rejoining: Promise<void> | undefined;

  private constructor(private readonly o: MembershipOptions) {
    this.lease = new LeaderLease({ store: o.etcd, key: o.keys.member(o.self.name), value: JSON.stringify(o.self), ttlSeconds: o.ttlSeconds, logger: o.log });
    // A lost entry (etcd unreachable longer than the TTL) is written again once etcd answers.
    const rejoin = () => {
      this.rejoining ??= this.lease.campaign(this.stopping.signal).catch(() => undefined).finally(() => (this.rejoining = undefined));
    };
    this.lease.on('lost', rejoin);
    this.lease.on('deadline', rejoin);
  }

  static async join(o: MembershipOptions): Promise<Membership> {
    const members = await readMembers(o.etcd, o.keys).catch((err: unknown) => {
      throw new BulwarkError('COORDINATION_UNAVAILABLE', `cannot join the cluster: etcd did not answer (${errorMessage(err)})`, {
        hint: 'check coordination.etcd.endpoints and that etcd is running; a cluster member needs etcd to start', cause: err,
      });
    });
    const incompatible = members.filter((m) => m.name !== o.self.name && m.schemaVersion !== o.self.schemaVersion);
    if (incompatible.length > 0) {
      const list = incompatible.map((m) => `${m.name} (bulwark ${m.version}, store schema ${m.schemaVersion})`).join(', ');
      throw new BulwarkError('COORDINATION_REJECTED',
        `this daemon (bulwark ${o.self.version}, store schema ${o.self.schemaVersion}) refuses to join the cluster: its store schema differs from the running members' ${list}; ` +
        'the store is shared, and migrating it under them would break them', {
          hint: 'run one bulwark version on every member: stop the old members and start them on the new version together (or start this one on the version they run)',
        });
    }
    const membership = new Membership(o);
    if (!(await membership.lease.tryAcquire())) {
      throw new BulwarkError('COORDINATION_REJECTED', `another daemon is already a cluster member named "${o.self.name}"`, {
        hint: 'give each daemon its own name: bulwark up --node NAME, or cluster.member (the host name by default); a daemon that just died frees its name within cluster.lease_ttl',
      });
    }
    return membership;
  }

  get self(): MemberInfo {
    return this.o.self;
  }

  /** Leaves the cluster: the member key goes at once rather than at the TTL. */
  async leave(): Promise<void> {
    this.stopping.abort();
    await this.rejoining;
    await this.lease.stop();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
