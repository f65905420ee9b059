import type { AgentResult } from './types.js';

/**
 * Results waiting to be sent. Bounded: when the control plane is away for long,
 * the oldest results are dropped (and counted) so memory stays flat; the newest
 * are the ones that matter for a quorum decision.
 */
export class ResultBuffer {
  private items: AgentResult[] = [];
  private head = 0;
  /** Results dropped since the process started. */
  dropped = 0;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`buffer capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.items.length - this.head;
  }

  push(result: AgentResult): void {
    if (this.size >= this.capacity) {
      this.head += 1;
      this.dropped += 1;
    }
    this.items.push(result);
    this.compact();
  }

  /** The oldest `max` results, left in place until `commit` says they were delivered. */
  peek(max: number): AgentResult[] {
    return this.items.slice(this.head, this.head + max);
  }

  /**
   * Forget the first `count` results of an earlier peek. Results dropped for
   * room since that peek were among them, so only the rest are removed.
   */
  commit(batch: readonly AgentResult[]): void {
    let index = this.head;
    for (const result of batch) {
      if (this.items[index] === result) index += 1;
    }
    this.head = index;
    this.compact();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
