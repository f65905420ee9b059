import type { Logger } from '../core/logger.js';

export interface ProbeResultRow {
  target: string;
  at: number;
  ok: boolean;
  durationMs: number;
  reason?: string;
}

export interface StateChangeRow {
  subjectKind: 'target' | 'service' | 'database' | 'agent';
  subject: string;
  from: string;
  to: string;
  at: number;
  reason?: string;
}

/** The part of the store the probes write to. */
export interface ProbeHistorySink {
  recordProbeResults(rows: ProbeResultRow[]): Promise<unknown>;
  recordStateChange(change: StateChangeRow): Promise<unknown>;
}

/**
 * Results are written in one transaction a second, not one a check: 1,000
 * checks a second would otherwise be 1,000 fsyncs. The buffer is bounded; when
 * the store is down for long, the oldest rows are dropped and counted.
 */
export class HistoryWriter {
  private buffer: ProbeResultRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  dropped = 0;

  constructor(
    private readonly sink: ProbeHistorySink,
    private readonly log: Logger,
    private readonly options: { flushMs?: number; maxBuffered?: number } = {},
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.flushMs ?? 1000);
    this.timer.unref();
  }

  add(row: ProbeResultRow): void {
    this.buffer.push(row);
    const max = this.options.maxBuffered ?? 200_000;
    if (this.buffer.length > max) {
      const excess = this.buffer.length - max;
      this.buffer.splice(0, excess);
      this.dropped += excess;
    }
  }

  recordStateChange(change: StateChangeRow): void {
    this.sink.recordStateChange(change).catch((err: unknown) => {
      this.log.error({ err: (err as Error).message, subject: change.subject }, 'could not record a state change');
    });
  }

  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async flushOnce(): Promise<void> {
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    try {
      await this.sink.recordProbeResults(rows);
    } catch (err) {
      // Put them back in front: they are older than what arrived meanwhile.
      this.buffer = rows.concat(this.buffer);
      this.log.error({ err: (err as Error).message, rows: rows.length }, 'could not write probe results; will retry');
    }
  }
}
