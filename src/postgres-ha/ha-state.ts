/**
 * The one reader of the HA contract's etcd keys (keys.ts): the member managers,
 * `bulwark db` and the daemon's database view all read them through here, so a
 * record is parsed and checked in one place. A value another process wrote is
 * checked against its shape; a malformed one reads as absent and is named in
 * `malformed`, so one bad key never fails a whole view or a loop iteration.
 */
import { z } from 'zod';
import type { CallOptions, GetResult, KeyValue, LeaseId } from '../coordination/index.js';
import { parseLsn, type Lsn } from './decide.js';
import type { DatabaseKeys, FailoverRequest, HistoryEntry, MemberRecord, SwitchoverRequest, SyncRecord } from './keys.js';

/** A decoded value with what etcd says about it: the revision for compare-and-swap, the lease it is bound to. */
export interface Versioned<T> {
  value: T;
  modRevision: number;
  lease: LeaseId | undefined;
}

export interface HaState {
  /** The store's revision when it answered (the highest of the reads). */
  revision: number;
  leader: Versioned<string> | undefined;
  sync: Versioned<SyncRecord> | undefined;
  optime: Versioned<Lsn> | undefined;
  /** Configured members that have a (well-formed) record. */
  members: Map<string, Versioned<MemberRecord>>;
  switchover: Versioned<SwitchoverRequest> | undefined;
  failover: Versioned<FailoverRequest> | undefined;
  history: Versioned<HistoryEntry[]> | undefined;
  /** Keys whose value did not have the expected shape. */
  malformed: string[];
}

export type HaReader = { get(key: string, options?: CallOptions): Promise<GetResult> };

/** Which keys to read; all by default. Members are always the ones named. */
export interface ReadSelection {
  history?: boolean;
  requests?: boolean;
}

export async function readHaState(etcd: HaReader, keys: DatabaseKeys, members: readonly string[], call: CallOptions = {}, select: ReadSelection = {}): Promise<HaState> {
  const none = Promise.resolve<GetResult | undefined>(undefined);
  const [leader, sync, optime, switchover, failover, history, ...records] = await Promise.all([
    etcd.get(keys.leader, call), etcd.get(keys.sync, call), etcd.get(keys.optime, call),
    select.requests === false ? none : etcd.get(keys.switchover, call),
    select.requests === false ? none : etcd.get(keys.failover, call),
    select.history === false ? none : etcd.get(keys.history, call),
    ...members.map((name) => etcd.get(keys.member(name), call)),
  ]);
  const malformed: string[] = [];
  const read = <T>(got: GetResult | undefined, decoder: (text: string) => T | undefined): Versioned<T> | undefined => {
    const kv = got?.kv;
    if (!kv) return undefined;
    const value = decoder(kv.value);
    if (value === undefined) {
      malformed.push(kv.key);
      return undefined;
    }
    return versioned(kv, value);
  };
  const state: HaState = {
    revision: Math.max(...[leader, sync, optime, switchover, failover, history, ...records].map((r) => r?.revision ?? 0)),
    leader: read(leader, (text) => (text.length > 0 ? text : undefined)),
    sync: read(sync, decodeSyncRecord),
    optime: read(optime, decodeLsn),
    members: new Map(),
    switchover: read(switchover, decodeSwitchoverRequest),
    failover: read(failover, decodeFailoverRequest),
    history: read(history, decodeHistory),
    malformed,
  };
  members.forEach((name, i) => {
    const record = read(records[i], decodeMemberRecord);
    if (record) state.members.set(name, record);
  });
  return state;
}

function versioned<T>(kv: KeyValue, value: T): Versioned<T> {
  return { value, modRevision: kv.modRevision, lease: kv.lease };
}

// ---------------------------------------------------------------- decoders

const memberRecord = z.object({
  role: z.enum(['primary', 'replica', 'stopped', 'unknown']), timeline: z.number(), lsn: z.string(), fenced: z.boolean(),
  host: z.string(), port: z.number(), state: z.string().optional(), following: z.string().optional(),
  lagBytes: z.number().optional(), at: z.string().optional(),
});
const syncRecord = z.object({ leader: z.string(), members: z.array(z.string()) });
const switchoverRequest = z.object({ from: z.string(), to: z.string().optional(), requestedAt: z.string(), handingOver: z.boolean().optional() });
const failoverRequest = z.object({ to: z.string(), allowDataLoss: z.boolean(), requestedAt: z.string() });
const historyEntry = z.object({
  kind: z.enum(['failover', 'switchover', 'manual-failover']), from: z.string().nullish(), to: z.string(),
  timeline: z.number(), at: z.string(), durationMs: z.number(),
}).transform((e): HistoryEntry => ({ ...e, from: e.from ?? undefined }));

function decoder<T>(schema: z.ZodType<T>): (text: string) => T | undefined {
  return (text) => {
    try {
      const parsed = schema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  };
}

export const decodeMemberRecord: (text: string) => MemberRecord | undefined = decoder(memberRecord);
export const decodeSyncRecord: (text: string) => SyncRecord | undefined = decoder(syncRecord);
export const decodeSwitchoverRequest: (text: string) => SwitchoverRequest | undefined = decoder(switchoverRequest);
export const decodeFailoverRequest: (text: string) => FailoverRequest | undefined = decoder(failoverRequest);
export const decodeHistory: (text: string) => HistoryEntry[] | undefined = decoder(z.array(historyEntry));

export function decodeLsn(text: string): Lsn | undefined {
  try {
    return parseLsn(text);
  } catch {
    return undefined;
  }
}
