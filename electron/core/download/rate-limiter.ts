// --limit-rate: one budget of bytes per second shared by every download of a job. Readers
// pause for the time `take` returns, which backs TCP up to the server.

const burstMs = 100;

export class RateLimiter {
  private readonly bytesPerSec: number;
  /** When the bytes accounted so far may have arrived at the allowed rate. */
  private due = 0;

  constructor(bytesPerSec: number) {
    this.bytesPerSec = bytesPerSec;
  }

  /** Accounts for `bytes` just received; returns how many ms to wait before reading more. */
  take(bytes: number, now = Date.now()): number {
    // Idle time earns at most a short burst, so the average holds over any long stretch.
    const start = Math.max(this.due, now - burstMs);
    this.due = start + (bytes * 1000) / this.bytesPerSec;
    return Math.max(0, Math.round(this.due - now));
  }
}
