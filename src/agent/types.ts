import type { FailureReason } from '../probes/index.js';

/** One target the control plane asks this agent to probe (the heartbeat's answer). */
export interface Assignment {
  id: string;
  check: { type: string; spec: unknown };
  intervalMs: number;
  timeoutMs: number;
}

/** One probe result as the control plane takes it (`POST /api/v1/agents/results`). */
export interface AgentResult {
  target: string;
  /** When the check finished, in ms since the epoch. */
  at: number;
  ok: boolean;
  durationMs: number;
  reason?: FailureReason;
  message?: string;
}
