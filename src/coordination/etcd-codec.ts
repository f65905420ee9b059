/**
 * The etcd v3 JSON gateway's wire shapes: bytes are base64, int64s are decimal
 * strings, and fields at their zero value are left out of the JSON entirely.
 */

/** An etcd lease ID. Kept as the decimal string etcd sends: IDs exceed 2^53. */
export type LeaseId = string;

export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  /** The lease the key is bound to; undefined when it has none. */
  lease: LeaseId | undefined;
}

export interface RawKeyValue {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  version?: string;
  lease?: string;
}

export interface RawHeader {
  revision?: string;
}

export function encode(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export function decode(base64: string | undefined): string {
  return base64 === undefined ? '' : Buffer.from(base64, 'base64').toString('utf8');
}

/** An int64 field; revisions stay far below 2^53 in any real cluster. */
export function int(field: string | number | undefined): number {
  if (field === undefined) return 0;
  const n = Number(field);
  if (!Number.isSafeInteger(n)) throw new TypeError(`etcd sent a number Bulwark cannot use: ${String(field)}`);
  return n;
}

export function leaseOf(field: string | undefined): LeaseId | undefined {
  return field === undefined || field === '0' ? undefined : field;
}

export function toKeyValue(raw: RawKeyValue): KeyValue {
  return {
    key: decode(raw.key),
    value: decode(raw.value),
    createRevision: int(raw.create_revision),
    modRevision: int(raw.mod_revision),
    version: int(raw.version),
    lease: leaseOf(raw.lease),
  };
}

export function headerRevision(header: RawHeader | undefined): number {
  return int(header?.revision);
}
