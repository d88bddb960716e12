// Bytes, speed and ETA for a job, emitted at a bounded rate (4 per second).
import type { JobEvent } from './job-events.ts';

export const progressIntervalMs = 250;
const speedWindowMs = 5000;
/**
 * No byte for this long and the job is stalled (a server that is down, every file waiting):
 * speed 0 and no ETA, rather than the window's fading average turning into hours.
 */
export const stalledAfterMs = 2000;

export class ProgressTracker {
  bytesTotal: number;
  filesTotal: number;
  /** Files whose size neither the listing nor a response has told yet. */
  unsizedFiles: number;
  bytesDone = 0;
  filesDone = 0;
  networkBytes = 0;
  private samples: Array<{ at: number; bytes: number }> = [];
  /** When networkBytes last changed, as seen by speed() (4 times a second, not per chunk). */
  private lastChangeAt = Date.now();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(bytesTotal: number, filesTotal: number, unsizedFiles = 0) {
    this.bytesTotal = bytesTotal;
    this.filesTotal = filesTotal;
    this.unsizedFiles = unsizedFiles;
  }

  /** An unsized file's size became known (0: it will not be downloaded after all). */
  sizeLearned(bytes: number): void {
    this.bytesTotal += bytes;
    this.unsizedFiles = Math.max(0, this.unsizedFiles - 1);
  }

  addBytes(bytes: number, fromNetwork: boolean): void {
    this.bytesDone += bytes;
    if (fromNetwork) this.networkBytes += bytes;
  }

  /** Bytes per second over the last few seconds. */
  speed(now = Date.now()): number {
    const previous = this.samples.at(-1);
    if (!previous || previous.bytes !== this.networkBytes) this.lastChangeAt = now;
    this.samples.push({ at: now, bytes: this.networkBytes });
    // Trimmed before anything returns: a 10-minute outage must not pile up 2 400 samples.
    while (this.samples.length > 2 && now - this.samples[0]!.at > speedWindowMs) this.samples.shift();
    if (now - this.lastChangeAt >= stalledAfterMs) return 0;
    const first = this.samples[0]!;
    const elapsed = (now - first.at) / 1000;
    return elapsed > 0.2 ? (this.networkBytes - first.bytes) / elapsed : 0;
  }

  event(now = Date.now()): JobEvent {
    const speed = this.speed(now);
    const left = Math.max(0, this.bytesTotal - this.bytesDone);
    const sizesKnown = this.unsizedFiles === 0;
    return {
      type: 'progress',
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      sizesKnown,
      filesDone: this.filesDone,
      filesTotal: this.filesTotal,
      speed: Math.round(speed),
      // Without every size, "bytes left" is a guess: no ETA rather than a wrong one.
      etaSeconds: !sizesKnown ? null : left === 0 ? 0 : speed > 0 ? Math.round(left / speed) : null,
      networkBytes: this.networkBytes,
    };
  }

  start(emit: (event: JobEvent) => void, extra?: () => void): void {
    this.timer = setInterval(() => {
      emit(this.event());
      extra?.();
    }, progressIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
