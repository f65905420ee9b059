/**
 * synchronous_standby_names from the standbys commits wait for, and back.
 * `ANY n`: a commit is acknowledged once any n of them have flushed it (quorum);
 * `FIRST n`: once the first n streaming ones, by their order in the list, have.
 * n is capped at the number of names, so a shrunken set still acknowledges
 * (what Patroni does with synchronous_node_count); the rules that decide who may
 * take over (decide.ts) do not depend on n: a candidate sees every member of the set.
 */
export interface SyncQuorum {
  method: 'ANY' | 'FIRST';
  count: number;
}

export const ANY_ONE: SyncQuorum = { method: 'ANY', count: 1 };

/** `ANY 1 ("m2", "m3")`, or '' (asynchronous) for none. */
export function synchronousStandbyNames(names: readonly string[], quorum: SyncQuorum = ANY_ONE): string {
  if (names.length === 0) return '';
  const count = Math.max(1, Math.min(quorum.count, names.length));
  return `${quorum.method} ${count} (${[...names].sort().map((n) => `"${n.replace(/"/g, '""')}"`).join(', ')})`;
}

export function parseSynchronousStandbyNames(value: string): string[] {
  const m = /^(?:ANY|FIRST) \d+ \((.*)\)$/i.exec(value.trim());
  if (!m?.[1]) return [];
  return m[1].split(',').map((s) => s.trim().replace(/^"|"$/g, '').replace(/""/g, '"')).filter((s) => s.length > 0);
}
