/**
 * A binary min-heap of timed items, ordered by (time, sequence number): items due at the same
 * virtual millisecond come out in the order they were pushed, which keeps a run deterministic.
 */
export interface Timed {
  readonly at: number;
  readonly seq: number;
}

function before(a: Timed, b: Timed): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export class TimedHeap<T extends Timed> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i] as T, items[parent] as T)) break;
      [items[i], items[parent]] = [items[parent] as T, items[i] as T];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    items[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < items.length && before(items[l] as T, items[min] as T)) min = l;
      if (r < items.length && before(items[r] as T, items[min] as T)) min = r;
      if (min === i) break;
      [items[i], items[min]] = [items[min] as T, items[i] as T];
      i = min;
    }
    return top;
  }
}
