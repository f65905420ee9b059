/** A binary min-heap by `due`; the scheduler keeps 10,000+ timers in one. */
export interface HeapItem {
  due: number;
}

export class MinHeap<T extends HeapItem> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (this.items.length > 0 && last !== undefined) {
      this.items[0] = last;
      this.down(0);
    }
    return top;
  }

  remove(predicate: (item: T) => boolean): void {
    const kept = this.items.filter((item) => !predicate(item));
    this.items.length = 0;
    for (const item of kept) this.push(item);
  }

  private up(index: number): void {
    const items = this.items;
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as T).due <= (items[i] as T).due) break;
      [items[parent], items[i]] = [items[i] as T, items[parent] as T];
      i = parent;
    }
  }

  private down(index: number): void {
    const items = this.items;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < items.length && (items[left] as T).due < (items[smallest] as T).due) smallest = left;
      if (right < items.length && (items[right] as T).due < (items[smallest] as T).due) smallest = right;
      if (smallest === i) return;
      [items[smallest], items[i]] = [items[i] as T, items[smallest] as T];
      i = smallest;
    }
  }
}
