import { getCheckType, parseCondition, type Job, type Scheduler } from '../probes/index.js';
import type { Logger } from '../core/logger.js';
import type { AgentResult, Assignment } from './types.js';

/** Bound on a result's message, as the control plane accepts it. */
const MAX_MESSAGE = 1000;

export interface ReconcileOutcome {
  added: string[];
  replaced: string[];
  removed: string[];
  /** Assignments this agent will not run (unknown check type, refused type). */
  refused: string[];
}

export interface AssignmentRunnerOptions {
  scheduler: Scheduler;
  log: Logger;
  /** Where finished checks go. */
  onResult: (result: AgentResult) => void;
  /** Aborted when the agent stops: checks cut short by that are not results about the target. */
  stopping: AbortSignal;
  /** Check types this agent refuses to run (default: command, which would run programs on the agent's host). */
  refusedTypes: ReadonlySet<string>;
  now?: () => number;
}

/**
 * Keeps the scheduler's jobs equal to the control plane's assignments: new ones
 * are added, gone ones removed, and changed ones (check, interval or timeout)
 * replaced. Unchanged ones keep running on their schedule.
 */
export class AssignmentRunner {
  /** id → fingerprint of what is scheduled (or refused) for it. */
  private readonly current = new Map<string, string>();
  private readonly now: () => number;

  constructor(private readonly options: AssignmentRunnerOptions) {
    this.now = options.now ?? Date.now;
  }

  get ids(): string[] {
    return [...this.current.keys()].sort();
  }

  reconcile(assignments: readonly Assignment[]): ReconcileOutcome {
    const outcome: ReconcileOutcome = { added: [], replaced: [], removed: [], refused: [] };
    const wanted = new Map(assignments.map((a) => [a.id, a]));
    for (const id of [...this.current.keys()]) {
      if (wanted.has(id)) continue;
      this.options.scheduler.remove(id);
      this.current.delete(id);
      outcome.removed.push(id);
    }
    for (const assignment of wanted.values()) {
      const key = fingerprint(assignment);
      const previous = this.current.get(assignment.id);
      if (previous === key) continue;
      this.current.set(assignment.id, key);
      const job = this.jobFor(assignment);
      if (!job) {
        this.options.scheduler.remove(assignment.id);
        outcome.refused.push(assignment.id);
        continue;
      }
      this.options.scheduler.add(job);
      (previous === undefined ? outcome.added : outcome.replaced).push(assignment.id);
    }
    return outcome;
  }

  private jobFor(assignment: Assignment): Job | undefined {
    const { id, check, intervalMs, timeoutMs } = assignment;
    if (this.options.refusedTypes.has(check.type)) {
      this.options.log.error({ target: id, type: check.type }, `refusing a ${check.type} check: this agent does not run that check type (see --allow-command-checks)`);
      return undefined;
    }
    const checkType = getCheckType(check.type);
    if (!checkType) {
      this.options.log.error({ target: id, type: check.type }, 'no such check type in this agent; upgrade the agent to the control plane\'s version');
      return undefined;
    }
    let spec: unknown;
    try {
      spec = rehydrate(check.spec);
    } catch (err) {
      this.options.log.error({ target: id, err: (err as Error).message }, 'assignment not runnable; upgrade the agent to the control plane\'s version');
      return undefined;
    }
    return {
      id,
      intervalMs,
      timeoutMs,
      firstRunSpreadMs: Math.min(intervalMs, 1000),
      run: async (signal) => {
        const result = await checkType.run(spec, { signal, timeoutMs });
        if (signal.aborted && this.options.stopping.aborted) return;
        this.options.onResult({
          target: id,
          at: this.now(),
          ok: result.ok,
          durationMs: Math.max(0, result.durationMs),
          ...(result.reason ? { reason: result.reason } : {}),
          ...(result.message ? { message: result.message.slice(0, MAX_MESSAGE) } : {}),
        });
      },
    };
  }
}

function fingerprint(assignment: Assignment): string {
  return JSON.stringify([assignment.check, assignment.intervalMs, assignment.timeoutMs]);
}

/** Conditions travel as the text the user wrote (see the heartbeat route); parse them here. */
function rehydrate(spec: unknown): unknown {
  if (!spec || typeof spec !== 'object' || !('conditions' in spec) || !Array.isArray(spec.conditions)) return spec;
  const conditions = (spec.conditions as unknown[]).map((text) => {
    if (typeof text !== 'string') throw new Error('a condition came as something other than its text');
    const parsed = parseCondition(text);
    if (!parsed.ok) throw new Error(`condition "${text}" does not parse here: ${parsed.error}`);
    return parsed.condition;
  });
  return { ...spec, conditions };
}
