import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/errors.js';
import { Scheduler } from '../probes/index.js';
import { ResultBuffer } from './buffer.js';
import { ControlPlaneClient, ControlPlaneError, type Identity } from './client.js';
import { AssignmentRunner, type ReconcileOutcome } from './jobs.js';
import type { AgentResult } from './types.js';
import { sleep } from '../core/time.js';

export type AgentState = 'idle' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface AgentOptions {
  /** The control plane's base URL (where `bulwark up` serves its API). */
  url: URL;
  token: string;
  name: string;
  zone?: string;
  log: Logger;
  /** How often to ask for assignments (and say "alive"). Default 2 s. */
  heartbeatMs?: number;
  /** How often buffered results are sent. Default 1 s. */
  flushMs?: number;
  /** Bound on each request to the control plane. Default 5 s. */
  requestTimeoutMs?: number;
  /** Results kept while the control plane is away; the oldest go first. Default 50,000. */
  maxBuffered?: number;
  /** Retry delays while the control plane is away: from base, doubling, to max. Defaults 500 ms and 10 s. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Run `command` checks (programs on this host) when assigned. Default false. */
  allowCommandChecks?: boolean;
}

/** Results per request: the control plane takes at most 20,000 and 8 MiB. */
const BATCH = 5000;

/**
 * A probing agent: asks the control plane what to probe (heartbeat), probes it
 * from here, and sends the results back. When the control plane is away it
 * keeps probing and buffering, and retries with capped exponential backoff; a
 * refused token stops it (see `failed`): a misconfigured agent must not run silently.
 */
export class Agent {
  readonly name = 'agent';
  private stateValue: AgentState = 'idle';
  private readonly log: Logger;
  private readonly client: ControlPlaneClient;
  private readonly scheduler = new Scheduler();
  private readonly runner: AssignmentRunner;
  private readonly buffer: ResultBuffer;
  private readonly identity: Identity;
  private readonly halt = new AbortController();
  private loop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private outage: { since: number; droppedBefore: number; warnedDrops: boolean } | undefined;
  private joined = false;
  private resolveFailed!: (err: ControlPlaneError) => void;
  /** Settles when the agent gives up for good (token refused, agent rejected). */
  readonly failed: Promise<ControlPlaneError>;
  private readonly o: Required<Omit<AgentOptions, 'zone'>> & { zone?: string };

  constructor(options: AgentOptions) {
    this.o = { heartbeatMs: 2000, flushMs: 1000, requestTimeoutMs: 5000, maxBuffered: 50_000, backoffBaseMs: 500, backoffMaxMs: 10_000, allowCommandChecks: false, ...options };
    this.log = options.log.child({ subsystem: 'agent', agent: options.name });
    this.identity = options.zone ? { name: options.name, zone: options.zone } : { name: options.name };
    this.client = new ControlPlaneClient({ url: options.url, token: options.token, timeoutMs: this.o.requestTimeoutMs });
    this.buffer = new ResultBuffer(this.o.maxBuffered);
    this.runner = new AssignmentRunner({
      scheduler: this.scheduler,
      log: this.log,
      stopping: this.halt.signal,
      refusedTypes: new Set(this.o.allowCommandChecks ? [] : ['command']),
      onResult: (result) => this.record(result),
    });
    this.failed = new Promise((resolve) => (this.resolveFailed = resolve));
  }

  get state(): AgentState {
    return this.stateValue;
  }

  /** Results waiting to be sent, and results dropped for room so far. */
  get backlog(): { buffered: number; dropped: number } {
    return { buffered: this.buffer.size, dropped: this.buffer.dropped };
  }

  /** Targets currently scheduled or refused, by id. */
  get assignmentIds(): string[] {
    return this.runner.ids;
  }

  /** Begins heartbeats; returns at once (joining may take a while, and is logged). */
  start(): Promise<void> {
    if (this.stateValue !== 'idle') return Promise.resolve();
    this.setState('running');
    this.scheduler.start();
    this.loop = this.run(this.halt.signal);
    return Promise.resolve();
  }

  /** Stop probing, then deliver what is buffered until `deadline`. Safe to call twice. */
  stop(deadline: AbortSignal): Promise<void> {
    this.stopping ??= this.shutdown(deadline);
    return this.stopping;
  }

  private async shutdown(deadline: AbortSignal): Promise<void> {
    const failed = this.stateValue === 'failed';
    if (!failed) this.setState('stopping');
    this.halt.abort(new Error('agent stopping'));
    await this.loop;
    await this.scheduler.stop(deadline);
    if (!failed && this.joined && this.buffer.size > 0) {
      try {
        await this.flush(deadline);
      } catch (err) {
        this.log.warn({ err: errorMessage(err), undelivered: this.buffer.size }, 'could not deliver the last results before stopping');
      }
    }
    if (!failed) this.setState('stopped');
  }

  private record(result: AgentResult): void {
    const droppedBefore = this.buffer.dropped;
    this.buffer.push(result);
    if (this.buffer.dropped > droppedBefore && this.outage && !this.outage.warnedDrops) {
      this.outage.warnedDrops = true;
      this.log.warn({ capacity: this.o.maxBuffered }, 'result buffer full: dropping the oldest results until the control plane is back');
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    let nextHeartbeat = 0;
    let backoff = 0;
    while (!signal.aborted) {
      let wait: number;
      try {
        if (Date.now() >= nextHeartbeat) {
          await this.heartbeat(signal);
          nextHeartbeat = Date.now() + this.o.heartbeatMs;
        }
        await this.flush(signal);
        this.recovered();
        backoff = 0;
        wait = Math.max(0, Math.min(this.o.flushMs, nextHeartbeat - Date.now()));
      } catch (err) {
        if (signal.aborted) break;
        const problem = err instanceof ControlPlaneError ? err : new ControlPlaneError('unavailable', errorMessage(err), undefined, { cause: err });
        if (problem.kind !== 'unavailable') {
          this.fail(problem);
          return;
        }
        backoff = backoff === 0 ? this.o.backoffBaseMs : Math.min(this.o.backoffMaxMs, backoff * 2);
        this.unreachable(problem, backoff);
        // Ask for assignments first once it answers again: they may have changed meanwhile.
        nextHeartbeat = 0;
        wait = backoff;
      }
      await sleep(wait, signal);
    }
  }

  private async heartbeat(signal: AbortSignal): Promise<void> {
    const assignments = await this.client.heartbeat(this.identity, signal);
    const outcome = this.runner.reconcile(assignments);
    if (!this.joined) {
      this.joined = true;
      this.log.info({ url: this.o.url.href, zone: this.o.zone, assignments: assignments.length }, 'joined the control plane');
    }
    if (changed(outcome)) this.log.info({ ...outcome, total: assignments.length }, 'assignments changed');
  }

  /** Send everything buffered, in batches; a batch the control plane rejects as invalid is dropped, not retried forever. */
  private async flush(signal: AbortSignal): Promise<void> {
    while (this.buffer.size > 0) {
      const batch = this.buffer.peek(BATCH);
      try {
        await this.client.results(this.identity, batch, signal);
      } catch (err) {
        if (!(err instanceof ControlPlaneError) || err.kind !== 'rejected') throw err;
        this.log.error({ err: err.message, results: batch.length }, 'the control plane rejected a batch of results; dropping it');
      }
      this.buffer.commit(batch);
    }
  }

  private unreachable(err: ControlPlaneError, retryInMs: number): void {
    if (this.outage) {
      this.log.debug({ err: err.message, retryInMs }, 'control plane still unreachable');
      return;
    }
    this.outage = { since: Date.now(), droppedBefore: this.buffer.dropped, warnedDrops: false };
    this.log.warn(
      { err: err.message, url: this.o.url.href, buffered: this.buffer.size, retryInMs, maxRetryMs: this.o.backoffMaxMs },
      'control plane unreachable: still probing and buffering results; retrying with backoff',
    );
  }

  private recovered(): void {
    if (!this.outage) return;
    const { since, droppedBefore } = this.outage;
    this.outage = undefined;
    this.log.info({ outageMs: Date.now() - since, dropped: this.buffer.dropped - droppedBefore }, 'control plane reachable again: buffered results delivered');
  }

  private fail(err: ControlPlaneError): void {
    this.setState('failed');
    if (err.kind === 'unauthorized') {
      this.log.error({ err: err.message, url: this.o.url.href }, 'the agent token is invalid: create one with `bulwark token create --name NAME` on the control plane and pass it with --token or BULWARK_AGENT_TOKEN');
    } else {
      this.log.error({ err: err.message, url: this.o.url.href }, 'the control plane rejected this agent; check --join (the URL of `bulwark up`) and --name');
    }
    this.resolveFailed(err);
  }

  private setState(next: AgentState): void {
    if (next === this.stateValue) return;
    const from = this.stateValue;
    this.stateValue = next;
    this.log.info({ from, to: next }, 'agent state changed');
  }
}

function changed(outcome: ReconcileOutcome): boolean {
  return outcome.added.length + outcome.replaced.length + outcome.removed.length + outcome.refused.length > 0;
}

