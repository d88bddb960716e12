// The download queue: ready items, items waiting out a retry delay, and workers that
// take the next ready one. A retrying file waits without holding a download slot.

export class WorkQueue<T> {
  /** Items not taken yet start at `head`: shift() on a 100 000-item array copies the rest each time (3.4 s in all). */
  private readonly ready: Array<T | undefined>;
  private head = 0;
  private readonly waiting: Array<{ item: T; at: number }> = [];
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
      const due = this.waiting.findIndex((w) => w.at <= now);
      if (due >= 0) {
        this.active++;
        return this.waiting.splice(due, 1)[0]!.item;
      }
      if (this.head < this.ready.length) {
        const next = this.ready[this.head] as T;
        this.ready[this.head++] = undefined; // taken: not kept alive by the queue
        this.active++;
        return next;
      }
      if (this.waiting.length === 0 && this.active === 0) return null;
      const earliest = this.waiting.reduce((min, w) => Math.min(min, w.at), Infinity);
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
    this.waiting.push({ item, at: Date.now() + delayMs });
    this.notify();
  }

  get pending(): number {
    return this.ready.length - this.head + this.waiting.length;
  }

  close(): void {
    this.closed = true;
    this.notify();
  }

  private notify(): void {
    for (const wake of [...this.sleepers]) wake();
  }
}
