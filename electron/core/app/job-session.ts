// One job as the app sees it: runs the engine's runJob (again) for start, resume and retry,
// folds its events into a snapshot, and reports changes at a bounded rate.
import type { BundleProgress, Events, FileRow, JobProgress, JobRecord, JobSnapshot, JobStatus, ListingCount, OutputFile } from '../contract.ts';
import { toContractError } from '../contract.ts';
import type { JobEvent, JobSummary } from '../jobs/job-events.ts';
import type { SavedJob } from '../jobs/job-runner.ts';
import type { Engine, JobOptions } from './engine.ts';

/** What a job's listeners receive: the contract's job event. */
export type JobChange = Events['job'];

const emptyProgress: JobProgress = { bytesDone: 0, bytesTotal: 0, sizesKnown: false, filesDone: 0, filesTotal: 0, speed: 0, etaSeconds: null };
const activeStatuses: readonly JobStatus[] = ['running', 'pausing', 'cancelling'];

export function isActive(status: JobStatus): boolean {
  return activeStatuses.includes(status);
}

/** How far a job saved by an earlier launch got, from its journal's files (see readJobState). */
export function savedProgress(files: SavedJob['files']): JobProgress {
  const progress: JobProgress = { ...emptyProgress, sizesKnown: true, filesTotal: files.length };
  for (const f of files) {
    progress.bytesTotal += f.size ?? 0;
    if (f.size === null) progress.sizesKnown = false;
    // An unfinished file counts what its part holds, as the resumed run will (not 0 of what it had).
    if (!f.done) {
      progress.bytesDone += f.kept;
      continue;
    }
    progress.filesDone++;
    progress.bytesDone += f.size ?? 0;
  }
  return progress;
}

export class JobSession {
  record: JobRecord;
  private readonly files = new Map<string, FileRow>();
  private readonly changed = new Set<string>();
  /** Rows zipped into the archive being written: until it is in place (an `output`), a stop deletes it. */
  private readonly zippedUnfinished = new Set<string>();
  private listing: ListingCount | null = null;
  private progress: JobProgress = { ...emptyProgress };
  private bundle: BundleProgress | null = null;
  private warnings: string[] = [];
  /** Warnings already sent: each event carries only the new ones (and where they start). */
  private warningsSent = 0;
  /** Paths in record.outputs, so each output is checked once (a scan each was quadratic). */
  private readonly outputPaths: Set<string>;
  private summary: JobSummary | null = null;
  private controller: AbortController | null = null;
  private running: Promise<void> | null = null;
  /** A Cancel of a stopped job deleting its downloads (see cancel). */
  private discarding: Promise<void> | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly engine: Engine;
  private readonly options: () => Promise<JobOptions>;
  private readonly onChange: (change: JobChange, statusChanged: boolean) => void;
  private readonly throttleMs: number;

  constructor(init: {
    record: JobRecord;
    engine: Engine;
    options: () => Promise<JobOptions>;
    onChange: (change: JobChange, statusChanged: boolean) => void;
    throttleMs: number;
    queued?: { id: string; name: string; size: number | null }[];
    /** An unfinished job from an earlier launch: its files as its journal has them. */
    saved?: SavedJob['files'];
  }) {
    this.record = init.record;
    this.outputPaths = new Set(init.record.outputs.map((o) => o.path));
    this.engine = init.engine;
    this.options = init.options;
    this.onChange = init.onChange;
    this.throttleMs = init.throttleMs;
    for (const q of init.queued ?? []) {
      this.files.set(q.id, { id: q.id, name: q.name, state: 'queued', size: q.size, bytesDone: 0, attempt: null, retryAt: null, reason: null, reasonCode: null, httpStatus: null });
    }
    if (init.queued) {
      // The selection, until the job's own listing says (a large batch takes seconds to list again).
      const bytesTotal = init.queued.reduce((sum, q) => sum + (q.size ?? 0), 0);
      this.progress = { ...emptyProgress, filesTotal: init.queued.length, bytesTotal, sizesKnown: init.queued.every((q) => q.size !== null) };
    }
    if (init.saved) {
      for (const f of init.saved) {
        this.files.set(f.id, { id: f.id, name: f.name, state: f.done ? 'verified' : 'queued', size: f.size, bytesDone: f.done ? (f.size ?? 0) : f.kept, attempt: null, retryAt: null, reason: null, reasonCode: null, httpStatus: null });
      }
      this.progress = savedProgress(init.saved);
    } else if (!init.queued) {
      // A finished, failed or cancelled job from an earlier launch: its journal is gone, and its
      // record holds the counts (not the rows) to show rather than "0 of 0".
      const { filesTotal, bytesTotal, filesDone, bytesDone } = init.record;
      this.progress = { ...emptyProgress, sizesKnown: true, filesTotal, bytesTotal, filesDone, bytesDone };
    }
  }

  snapshot(): JobSnapshot {
    return { job: { ...this.record }, progress: { ...this.progress }, listing: this.listing, bundle: this.bundle, files: [...this.files.values()], warnings: [...this.warnings], summary: this.summary };
  }

  get currentProgress(): JobProgress {
    return { ...this.progress };
  }

  get isRunning(): boolean {
    return this.running !== null;
  }

  /** Starts (or resumes, or retries) the job; resolves when runJob has been called. */
  start(): void {
    if (this.running) return;
    this.summary = null;
    this.bundle = null;
    this.warnings = [];
    this.warningsSent = 0;
    this.record.error = null;
    // A retry re-queues what failed; the engine re-reports every file it handles.
    this.requeue(['failed', 'retrying', 'downloading', 'saving']);
    const controller = new AbortController();
    this.controller = controller;
    this.setStatus('running');
    this.running = this.run(controller).finally(() => {
      this.running = null;
      this.controller = null;
    });
  }

  private async run(controller: AbortController): Promise<void> {
    let summary: JobSummary | null = null;
    let error: unknown = null;
    let allowPartial = false;
    try {
      const options = await this.options();
      allowPartial = options.allowPartial;
      summary = await this.engine.runJob(options, (event) => this.apply(event), controller.signal);
    } catch (e) {
      error = e;
    }
    if (summary) this.apply(summary);
    this.listing = null; // a run stopped while listing
    // Nothing downloads once the run is over (paused, failed, cancelled): a row left
    // "downloading 33%" would claim otherwise. Its bytes stay counted and are kept on disk.
    this.requeue(['retrying', 'downloading', 'saving']);
    // Finished without the files that failed (allowPartial, "Bundle without them"): done, and
    // the record keeps how many were left out (failedCount) for the Done screen to say so.
    const finishedWithout = summary !== null && !summary.ok && !summary.error && summary.outputs.length > 0 && allowPartial;
    const finished = summary !== null && (summary.ok || finishedWithout);
    // Stopped: rows zipped into the archive being written read "zipped" for an archive that was
    // deleted unfinished. Their files are verified and kept for the next run's archive; rows of
    // volumes already in place stay zipped.
    if (!finished) this.restate(['zipped'], { state: 'verified' }, this.zippedUnfinished);
    this.zippedUnfinished.clear();
    // A pause or cancel that came while the finished job was closing is too late: it is done
    // (as paused, Resume would list and download the whole batch again).
    const stopping = this.record.status;
    if (!finished && stopping === 'pausing') return this.setStatus('paused');
    if (!finished && stopping === 'cancelling') return this.discard();
    if (error) {
      this.record.error = toContractError(error);
      return this.setStatus('failed');
    }
    if (!finished) {
      this.record.error = summary?.error ?? null;
      return this.setStatus('failed');
    }
    this.setStatus('done');
  }

  /** Rows in one of `states` (and among `only`, when given) change to `patch` (and are sent with the next change). */
  private restate(states: ReadonlyArray<FileRow['state']>, patch: Partial<FileRow>, only?: ReadonlySet<string>): void {
    for (const row of this.files.values()) {
      if (!states.includes(row.state) || (only && !only.has(row.id))) continue;
      this.files.set(row.id, { ...row, ...patch });
      this.changed.add(row.id);
    }
  }

  /** Rows in `states` go back to queued, without what their last attempt said. */
  private requeue(states: ReadonlyArray<FileRow['state']>): void {
    this.restate(states, { state: 'queued', reason: null, reasonCode: null, httpStatus: null, attempt: null, retryAt: null, waitingForServer: undefined });
  }

  /** The engine is still working: a run whose status is already final is only finishing its promise. */
  private get stoppable(): boolean {
    return this.running !== null && this.controller !== null && (this.record.status === 'running' || this.record.status === 'pausing');
  }

  /** Pause: abort; the engine keeps its journal, so resume continues where it stopped. */
  async pause(): Promise<void> {
    if (!this.stoppable) return;
    this.setStatus('pausing');
    this.controller?.abort();
    await this.running;
  }

  async cancel(): Promise<void> {
    if (this.stoppable) {
      this.setStatus('cancelling');
      this.controller?.abort();
      await this.running;
      return;
    }
    // A second Cancel while the first is still at work waits for it: two discards raced for the
    // folder's lock, and the loser recorded a LOCKED error about a job that did not exist.
    if (this.discarding) return this.discarding;
    if (this.record.status === 'cancelled') return;
    // Claimed before any await, so a second Cancel finds it.
    this.discarding = (async () => {
      await this.running; // a run that already stopped may still be settling
      // Cancelling (an active status) while it deletes: no other job starts in the folder meanwhile.
      this.setStatus('cancelling');
      await this.discard();
    })().finally(() => {
      this.discarding = null;
    });
    return this.discarding;
  }

  /**
   * Cancelled for good: its unfinished downloads and staging are deleted (discardJob). Files
   * already saved loose in the folder (folder and both modes) and finished archives stay; the
   * record counts them so the screen can say so.
   */
  private async discard(): Promise<void> {
    try {
      this.record.discarded = await this.engine.discardJob(this.record.outDir, this.record.source);
    } catch (e) {
      this.record.discarded = false;
      this.record.error = toContractError(e);
    }
    if (this.record.mode !== 'zip') this.record.looseFiles = this.progress.filesDone;
    this.setStatus('cancelled');
  }

  /** Waits for a running job to stop (used on quit after pausing). */
  async settled(): Promise<void> {
    await this.running;
  }

  private apply(event: JobEvent): void {
    switch (event.type) {
      case 'listing':
        this.listing = { found: event.found ?? 0, total: event.total ?? null };
        break;
      case 'listed':
        this.listing = null;
        this.record.kind = event.kind;
        this.record.filesTotal = event.files;
        this.record.bytesTotal = event.bytes;
        this.progress = { ...this.progress, filesTotal: event.files, bytesTotal: event.bytes, sizesKnown: event.unsizedFiles === 0 };
        break;
      case 'file': {
        const prev = this.files.get(event.id);
        const size = event.size ?? prev?.size ?? null;
        const done = event.bytesDone ?? (event.state === 'verified' || event.state === 'zipped' ? (size ?? 0) : prev?.bytesDone ?? 0);
        this.files.set(event.id, {
          id: event.id,
          name: event.name,
          state: event.state,
          size,
          bytesDone: done,
          attempt: event.attempt ?? (event.state === 'retrying' ? prev?.attempt ?? null : null),
          retryAt: event.retryInMs === undefined ? null : Date.now() + event.retryInMs,
          waitingForServer: event.waitingForServer,
          reason: event.reason ?? null,
          reasonCode: event.code ?? null,
          httpStatus: event.httpStatus ?? null,
        });
        this.changed.add(event.id);
        if (event.state === 'zipped') this.zippedUnfinished.add(event.id);
        break;
      }
      case 'progress':
        this.record.bytesTotal = event.bytesTotal; // grows as unlisted sizes are learned
        this.record.filesDone = event.filesDone;
        this.record.bytesDone = event.bytesDone;
        this.progress = {
          bytesDone: event.bytesDone,
          bytesTotal: event.bytesTotal,
          sizesKnown: event.sizesKnown,
          filesDone: event.filesDone,
          filesTotal: event.filesTotal,
          speed: event.speed,
          etaSeconds: event.etaSeconds,
        };
        break;
      case 'bundle':
        this.bundle = { state: event.state, path: event.path ?? null, bytesDone: event.bytesDone ?? null, bytesTotal: event.bytesTotal ?? null };
        break;
      case 'output': // only archives are reported one by one
        this.addOutput({ path: event.path, size: event.size, sha256: event.sha256 });
        this.zippedUnfinished.clear();
        break;
      case 'warning':
        this.warnings.push(event.message);
        break;
      case 'summary':
        this.summary = event;
        this.record.failedCount = event.failed.length;
        // The summary's outputs are the archives (already reported) and every loose file; a run
        // that stopped early reports none, and the count from the last complete one stays.
        if (event.outputs.length > 0) this.record.looseFiles = event.outputs.filter((o) => !this.outputPaths.has(o.path)).length;
        if (event.failed.length > 0) {
          const failures = new Map(event.failed.map((f) => [f.name, f]));
          for (const row of this.files.values()) {
            const failure = failures.get(row.name);
            if (failure !== undefined && row.state !== 'failed') {
              this.files.set(row.id, { ...row, state: 'failed', reason: failure.reason, reasonCode: failure.code ?? null, httpStatus: failure.httpStatus ?? null });
              this.changed.add(row.id);
            }
          }
        }
        break;
      default:
        break;
    }
    this.scheduleFlush();
  }

  private addOutput(output: OutputFile): void {
    if (this.outputPaths.has(output.path)) return;
    this.outputPaths.add(output.path);
    this.record.outputs.push(output);
  }

  private setStatus(status: JobStatus): void {
    this.record.status = status;
    this.record.updatedAt = new Date().toISOString();
    this.flush(true);
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => this.flush(false), this.throttleMs);
  }

  flush(statusChanged: boolean): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const files: FileRow[] = [];
    for (const id of this.changed) {
      const row = this.files.get(id);
      if (row) files.push(row);
    }
    this.changed.clear();
    const warningsFrom = this.warningsSent;
    this.warningsSent = this.warnings.length;
    this.onChange(
      {
        job: { ...this.record, outputs: [...this.record.outputs] }, progress: { ...this.progress }, listing: this.listing, bundle: this.bundle, files,
        warnings: this.warnings.slice(warningsFrom), warningsFrom, summary: this.summary,
      },
      statusChanged,
    );
  }
}
