// The sink's side of the zip worker protocol: requests out, replies routed, and the worker's
// death (crash, kill -9) or silence (a stuck event loop, a stopped process) turned into one
// clear error instead of a promise that never settles.
import { ReelpackError } from '../errors.ts';
import { aliveIntervalMs } from '../../worker/zip-protocol.ts';
import type { ZipWorkerExit, ZipWorkerHandle, ZipWorkerReply } from '../../worker/zip-protocol.ts';
import type { ExpectedEntry } from './verify-archive.ts';
import type { TrailerEntry, WriterEntry, WriterProgress } from './zip-writer.ts';

export interface ZipWorkerEvents {
  onEntry(archiveId: number, entry: ExpectedEntry): void;
  onProgress(archiveId: number, progress: WriterProgress): void;
  onVerifying(archiveId: number): void;
  /** The worker failed or died; every pending request is rejected with the same error. */
  onFailure(error: ReelpackError): void;
}

interface Pending {
  resolve: (result: { size: number; sha256: string }) => void;
  reject: (error: ReelpackError) => void;
}

const stopTimeoutMs = 3000;
/** A worker silent this long (no `alive`, nothing at all) is killed and the archive fails. */
const defaultSilenceMs = 30 * aliveIntervalMs;

export class ZipWorkerClient {
  private readonly handle: ZipWorkerHandle;
  private readonly events: ZipWorkerEvents;
  private readonly closes = new Map<number, Pending>();
  private readonly exited: Promise<void>;
  private hasExited = false;
  private stopping: Promise<void> | null = null;
  private failure: ReelpackError | null = null;

  private lastHeard = performance.now();
  private readonly watchdog: ReturnType<typeof setInterval>;

  constructor(handle: ZipWorkerHandle, events: ZipWorkerEvents, options: { silenceMs?: number } = {}) {
    this.handle = handle;
    this.events = events;
    handle.onMessage((message) => {
      this.lastHeard = performance.now();
      this.receive(message);
    });
    this.exited = new Promise((resolve) => {
      handle.onExit((exit) => {
        if (this.hasExited) return;
        this.hasExited = true;
        clearInterval(this.watchdog);
        if (!this.stopping) this.fail(new ReelpackError('ZIP_FAILED', `zip worker exited unexpectedly: ${describeExit(exit)}`));
        // Stopped on purpose (Ctrl-C while an archive was closing): its close will never answer.
        else this.rejectPending(new ReelpackError('CANCELLED', 'the archive was stopped before it was finished'));
        resolve();
      });
    });
    const silenceMs = options.silenceMs ?? defaultSilenceMs;
    let lastTick = performance.now();
    this.watchdog = setInterval(() => {
      const now = performance.now();
      // A tick far behind its time means this process did not run either (the machine
      // slept, or the debugger held it): the worker's silence proves nothing then.
      if (now - lastTick > 4 * aliveIntervalMs) this.lastHeard = now;
      lastTick = now;
      if (now - this.lastHeard <= silenceMs || this.hasExited) return;
      clearInterval(this.watchdog);
      this.fail(new ReelpackError('ZIP_FAILED', `zip worker did not respond for ${Math.round(silenceMs / 1000)} s and was stopped`));
      this.handle.kill();
    }, aliveIntervalMs);
    this.watchdog.unref();
  }

  get pid(): number | undefined {
    return this.handle.pid;
  }

  open(archiveId: number, path: string): void {
    this.handle.send({ type: 'open', archiveId, path });
  }

  add(archiveId: number, entry: WriterEntry): void {
    this.handle.send({ type: 'add', archiveId, entry });
  }

  close(archiveId: number, trailer: TrailerEntry[]): Promise<{ size: number; sha256: string }> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.stopping) return Promise.reject(new ReelpackError('CANCELLED', 'the archive was stopped before it was finished'));
    return new Promise((resolve, reject) => {
      this.closes.set(archiveId, { resolve, reject });
      this.handle.send({ type: 'close', archiveId, trailer });
    });
  }

  /** Cancel: the worker deletes its partial archive and exits; killed if it does not within 3 s. */
  cancel(): Promise<void> {
    return this.stop('cancel');
  }

  shutdown(): Promise<void> {
    return this.stop('shutdown');
  }

  private stop(type: 'cancel' | 'shutdown'): Promise<void> {
    this.stopping ??= (async () => {
      if (this.hasExited) return;
      this.handle.send({ type });
      const timer = setTimeout(() => this.handle.kill(), stopTimeoutMs);
      await this.exited;
      clearTimeout(timer);
    })();
    return this.stopping;
  }

  private receive(message: ZipWorkerReply): void {
    switch (message.type) {
      case 'entry':
        this.events.onEntry(message.archiveId, { name: message.name, size: message.size, crc32: message.crc32 });
        break;
      case 'progress':
        this.events.onProgress(message.archiveId, message);
        break;
      case 'verifying':
        this.events.onVerifying(message.archiveId);
        break;
      case 'closed': {
        const pending = this.closes.get(message.archiveId);
        this.closes.delete(message.archiveId);
        pending?.resolve({ size: message.size, sha256: message.sha256 });
        break;
      }
      case 'error':
        this.fail(new ReelpackError(message.error.code, message.error.message));
        break;
      case 'ready':
      case 'alive':
      case 'cancelled':
        break;
    }
  }

  private fail(error: ReelpackError): void {
    if (this.failure) return;
    this.failure = error;
    this.rejectPending(error);
    this.events.onFailure(error);
  }

  private rejectPending(error: ReelpackError): void {
    for (const pending of this.closes.values()) pending.reject(error);
    this.closes.clear();
  }
}

function describeExit(exit: ZipWorkerExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}
