/**
 * Revert-journal entries for faults. Each is written before its fault is
 * applied; reverting it undoes the fault (see revert-fault.ts).
 */
export type FaultEntry =
  /** SIGSTOPped: reverted with SIGCONT, if the pid is still the process that started at startTicks. */
  | { kind: 'stopped'; pid: number; startTicks: number; what: string }
  /** SIGKILLed: `respawn` starts argv again in cwd unless something listens on `port` already; `supervisor` leaves it to whatever supervises it. */
  | { kind: 'killed'; what: string; argv: string[]; cwd: string; restart: 'respawn' | 'supervisor'; port?: number }
  /** A netem qdisc on a device of a network namespace: deleted. */
  | { kind: 'qdisc'; netns: string; dev: string; spec: string }
  /** A device of a network namespace set down (a partition): set up again. */
  | { kind: 'link-down'; netns: string; dev: string }
  /** A fault on the drill's own TCP proxy: it lives in the drill's process, so it ends with it. */
  | { kind: 'proxy'; listen: string; mode: string }
  /** An endpoint disabled in a gateway the drill was handed: enabled again. */
  | { kind: 'gateway-admin'; service: string; endpoint: string };

export const FAULT_KINDS: ReadonlySet<string> = new Set(['stopped', 'killed', 'qdisc', 'link-down', 'proxy', 'gateway-admin']);
