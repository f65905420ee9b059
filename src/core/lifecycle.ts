import type { Logger } from './logger.js';

/** Every long-running part of Bulwark has this shape, and one supervisor drives them. */
export interface Subsystem<TConfig = unknown> {
  readonly name: string;
  start(): Promise<void>;
  /** Stop taking new work, finish what is in flight; when `deadline` aborts, abandon it and close. */
  stop(deadline: AbortSignal): Promise<void>;
  /**
   * The daemon begins to stop, before any subsystem is stopped: what changes
   * from now on (a server another subsystem stops, probes that see it go) is
   * the shutdown's doing, not a fault to report.
   */
  beforeStop?(): void;
  /** Apply a new, already validated configuration without a restart. */
  reload?(config: TConfig): Promise<void>;
  /** Ready to serve (for /readyz); defaults to "started". */
  ready?(): boolean;
}

export type LifecycleState =
  | { kind: 'idle' }
  | { kind: 'starting'; since: Date }
  | { kind: 'running'; since: Date }
  | { kind: 'stopping'; since: Date; deadline: Date }
  | { kind: 'stopped'; since: Date }
  | { kind: 'failed'; since: Date; error: string };

/**
 * Starts subsystems in order and stops them in reverse. stop() is idempotent:
 * a second call (a second signal) returns the same promise. Every state change
 * is logged.
 */
export class Lifecycle<TConfig = unknown> {
  private current: LifecycleState = { kind: 'idle' };
  private readonly started: Array<Subsystem<TConfig>> = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly subsystems: ReadonlyArray<Subsystem<TConfig>>, private readonly log: Logger) {}

  get state(): LifecycleState {
    return this.current;
  }

  isReady(): boolean {
    return this.current.kind === 'running' && this.started.every((s) => s.ready?.() ?? true);
  }

  async start(): Promise<void> {
    if (this.current.kind !== 'idle') throw new Error(`cannot start from state ${this.current.kind}`);
    this.transition({ kind: 'starting', since: new Date() });
    for (const subsystem of this.subsystems) {
      try {
        await subsystem.start();
        this.started.push(subsystem);
        this.log.info({ subsystem: subsystem.name }, 'subsystem started');
      } catch (err) {
        this.transition({ kind: 'failed', since: new Date(), error: (err as Error).message });
        await this.stopStarted(AbortSignal.timeout(5_000));
        throw err;
      }
    }
    this.transition({ kind: 'running', since: new Date() });
  }

  stop(drainMs: number): Promise<void> {
    this.stopping ??= this.stopOnce(drainMs);
    return this.stopping;
  }

  async reload(config: TConfig): Promise<void> {
    for (const subsystem of this.started) await subsystem.reload?.(config);
  }

  private async stopOnce(drainMs: number): Promise<void> {
    const deadline = AbortSignal.timeout(drainMs);
    this.transition({ kind: 'stopping', since: new Date(), deadline: new Date(Date.now() + drainMs) });
    await this.stopStarted(deadline);
    this.transition({ kind: 'stopped', since: new Date() });
  }

  private async stopStarted(deadline: AbortSignal): Promise<void> {
    for (const subsystem of this.started) {
      try {
        subsystem.beforeStop?.();
      } catch (err) {
        this.log.error({ subsystem: subsystem.name, err: (err as Error).message }, 'subsystem failed to prepare for the stop');
      }
    }
    while (this.started.length > 0) {
      const subsystem = this.started.pop() as Subsystem<TConfig>;
      try {
        await subsystem.stop(deadline);
        this.log.info({ subsystem: subsystem.name }, 'subsystem stopped');
      } catch (err) {
        this.log.error({ subsystem: subsystem.name, err: (err as Error).message }, 'subsystem failed to stop cleanly');
      }
    }
  }

  private transition(next: LifecycleState): void {
    const from = this.current.kind;
    this.current = next;
    this.log.info({ from, to: next.kind }, 'lifecycle state changed');
  }
}
