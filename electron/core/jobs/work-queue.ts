// The download queue: ready items, items waiting out a retry delay, and workers that
// take the next ready one. A retrying file waits without holding a download slot.

export class WorkQueue<T> {
  /** Items not taken yet start at `head`: shift() on a 100 000-item array copies the rest each time (3.4 s in all). */
  private readonly ready: Array<T | undefined>;
  private head = 0;
  /** Items waiting out a retry delay, soonest first (a heap: a whole batch may wait when the server is down). */
  private readonly waiting = new DueHeap<T>();
  private active = 0;
  private readonly sleepers = new Set<() => void>();
  private closed = false;

  constructor(items: Iterable<T>) {
    this.ready = Array.from(items); // not push(...items): ~130 000 arguments overflow the stack
  }

  /** The next item to work on, or null when nothing is left (or the queue was closed). */
  async take(): Promise<T | null> {
    for (;;) {
      if (this.closed) return null;
      const now = Date.now();
      if (this.waiting.size > 0 && this.waiting.soonest <= now) {
        this.active++;
        return this.waiting.pop();
      }
      if (this.head < this.ready.length) {
        const next = this.ready[this.head] as T;
        this.ready[this.head++] = undefined; // taken: not kept alive by the queue
        this.active++;
        return next;
      }
      if (this.waiting.size === 0 && this.active === 0) return null;
      const earliest = this.waiting.size > 0 ? this.waiting.soonest : Infinity;
      await new Promise<void>((resolve) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const wake = () => {
          clearTimeout(timer);
          this.sleepers.delete(wake);
          resolve();
        };
        if (Number.isFinite(earliest)) timer = setTimeout(wake, Math.max(0, earliest - now));
        this.sleepers.add(wake);
      });
    }
  }

  /** The worker finished with its item for good. */
  finish(): void {
    this.active--;
    this.notify();
  }

  /** The worker gives the item back to be retried after `delayMs`. */
  retryLater(item: T, delayMs: number): void {
    this.active--;
    this.waiting.push(item, Date.now() + delayMs);
    this.notify();
  }

  /**
   * Makes the waiting items that `match` selects due now (keeping their order), e.g. files
   * waiting for a server that has just answered another download. Returns them.
   */
  wakeWaiting(match: (item: T) => boolean): T[] {
    const woken = this.waiting.advance(match, Date.now());
    if (woken.length > 0) this.notify();
    return woken;
  }

  get pending(): number {
    return this.ready.length - this.head + this.waiting.size;
  }

  close(): void {
    this.closed = true;
    this.notify();
  }

  private notify(): void {
    for (const wake of [...this.sleepers]) wake();
  }
}

/** A binary min-heap of items by due time; equal times come out in the order they went in. */
class DueHeap<T> {
  private readonly heap: Array<{ item: T; at: number; seq: number }> = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Due time of the soonest item (the heap must not be empty). */
  get soonest(): number {
    return this.heap[0]!.at;
  }

  push(item: T, at: number): void {
    const heap = this.heap;
    heap.push({ item, at, seq: this.seq++ });
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** Moves the due time of every matching item up to `at` (none later); returns those items. */
  advance(match: (item: T) => boolean, at: number): T[] {
    const moved: T[] = [];
    for (const entry of this.heap) {
      if (entry.at > at && match(entry.item)) {
        entry.at = at;
        moved.push(entry.item);
      }
    }
    // Rare (once per outage) and bounded by the batch: a sorted array is a valid heap.
    if (moved.length > 0) this.heap.sort((x, y) => x.at - y.at || x.seq - y.seq);
    return moved;
  }

  /** Removes and returns the soonest item (the heap must not be empty). */
  pop(): T {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let first = i;
        if (left < heap.length && this.before(left, first)) first = left;
        if (right < heap.length && this.before(right, first)) first = right;
        if (first === i) break;
        [heap[i], heap[first]] = [heap[first]!, heap[i]!];
        i = first;
      }
    }
    return top.item;
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a]!;
    const y = this.heap[b]!;
    return x.at < y.at || (x.at === y.at && x.seq < y.seq);
  }
}
