import type { EtcdClient } from '../coordination/index.js';
import type { ClusterKeys } from './keys.js';
import { readMembers, type MemberInfo } from './membership.js';

/** The singleton duties a cluster of daemons runs once, by the name of the subsystem each wraps. */
export const SINGLETON_DUTIES = ['backup', 'drills', 'alerting'] as const;

export interface DutyHolder {
  duty: string;
  /** The member that holds the duty's lease; null when none does (a takeover is pending). */
  holder: string | null;
  /** Seconds etcd gives the holder's lease; null without a holder. */
  leaseRemainingSeconds: number | null;
}

export interface ClusterStatus {
  enabled: true;
  members: Array<MemberInfo & { leaseRemainingSeconds: number | null }>;
  duties: DutyHolder[];
  /** Member names by bulwark version, to see a rolling upgrade at a glance. */
  versions: Record<string, string[]>;
}

type StatusStore = Pick<EtcdClient, 'getPrefix' | 'leaseTimeToLive'>;

/** The cluster as etcd holds it now: members, who holds each duty, how long their leases have left. */
export async function readClusterStatus(etcd: StatusStore, keys: ClusterKeys, duties: readonly string[] = SINGLETON_DUTIES, timeoutMs = 2000): Promise<ClusterStatus> {
  const [members, dutyKvs] = await Promise.all([readMembers(etcd, keys, timeoutMs), etcd.getPrefix(keys.dutiesPrefix, { timeoutMs })]);
  const remaining = async (leaseId: string | undefined) => (leaseId === undefined ? null : Math.max(0, await etcd.leaseTimeToLive(leaseId, { timeoutMs })));
  const held = new Map(dutyKvs.map((kv) => [kv.key.slice(keys.dutiesPrefix.length), kv]));
  const names = [...new Set([...duties, ...held.keys()])].sort();
  const versions: Record<string, string[]> = {};
  for (const m of members) (versions[m.version] ??= []).push(m.name);
  return {
    enabled: true,
    members: await Promise.all(members.map(async ({ leaseId, ...m }) => ({ ...m, leaseRemainingSeconds: await remaining(leaseId) }))),
    duties: await Promise.all(names.map(async (duty) => {
      const kv = held.get(duty);
      return { duty, holder: kv?.value ?? null, leaseRemainingSeconds: kv ? await remaining(kv.lease) : null };
    })),
    versions,
  };
}
