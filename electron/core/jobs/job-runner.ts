// Runs one job: list (or reload the journal), download with N workers, verify, hand each
// file to the output sink, finish, clean up. Crash-safe: run the same job again after any
// interruption and it continues from the journal and the .part files.
import type { ZipWorkerHandle } from '../../worker/zip-protocol.ts';
import { existsSync } from 'node:fs';
import { mkdir, rename, rmdir, stat, truncate, unlink } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ReelpackError, toReelpackError } from '../errors.ts';
import { syncFile } from '../fs-sync.ts';
import type { ErrorData } from '../errors.ts';
import { HttpClient, bearerAuth } from '../download/http-client.ts';
import { downloadAttempt, ifRangeOf, SizeChangedError } from '../download/file-download.ts';
import type { HashCarry, Validator } from '../download/file-download.ts';
import { readLocalFile } from '../download/local-file.ts';
import { RateLimiter } from '../download/rate-limiter.ts';
import { isServerDown, retryAfterCapMs, retryDelay, serverDownDelay, serverDownPatienceMs } from '../download/retry-policy.ts';
import { downloadSegmented, planResumable, segmentThresholdBytes, SegmentsUnsupportedError } from '../download/segmented-download.ts';
import { UniquePathAllocator } from '../names/safe-path.ts';
import { isHttpSource, listSource, normalizeSource } from '../sources/list-source.ts';
import { stateFolderName } from '../sources/local-folder.ts';
import { retryWhileLocked } from '../fs-retry.ts';
import type { ListingProgress, ResultItem, SourceKind } from '../sources/source-types.ts';
import { defaultConfigDir, loadCatalog, recordFetched } from './catalog.ts';
import { looseOutput, placeLooseFile } from './folder-sink.ts';
import type { FailedFile, JobEvent, JobSummary, OutputFile } from './job-events.ts';
import { checksumsName, manifestName } from '../bundle/manifest.ts';
import { acquireJobLock } from './job-lock.ts';
import { checkVolumeCount } from '../bundle/volume-limits.ts';
// Small modules (no yazl): the zip sink itself is loaded only by jobs that zip.
import { loadBundleState } from '../bundle/bundle-state.ts';
import { removeArchiveParts } from '../bundle/archive-naming.ts';
import { checkJobFreeSpace, checkJobOptions, commitsPerConnection, createDestination, stagingLimitBytes } from './job-preflight.ts';
import { jobDefaults } from './job-defaults.ts';
import { Journal, journalPath, journalVersion, readJournal, removeJobState } from './journal.ts';
import type { DoneFact, JobHeader, JobItem, JobState } from './journal.ts';
import type { OutputSink, VerifiedFile } from './output-sink.ts';
import { ProgressTracker } from './progress-tracker.ts';
import { WorkQueue } from './work-queue.ts';
import { formatSizeOption } from '../units.ts';

export type OutputMode = 'zip' | 'folder' | 'both';

export interface JobOptions {
  source: string;
  outDir: string;
  mode: OutputMode;
  zipName?: string | undefined;
  volumeSize?: number | undefined;
  concurrency: number;
  token?: string | undefined;
  stallTimeoutMs: number;
  retries: number;
  depth: number;
  kind?: SourceKind | undefined;
  onlyNew: boolean;
  allowPartial: boolean;
  /** Download only these result ids (the app's selection); all when undefined. */
  selectIds?: string[] | undefined;
  /** Connections for one large file (--segments); 1 turns segmenting off. */
  segments?: number | undefined;
  /** Files from this size on are segmented (default 64 MiB). */
  segmentMinBytes?: number | undefined;
  /** Total download speed cap in bytes per second (--limit-rate). */
  limitRate?: number | undefined;
  /** How long a file waits for a server it cannot reach (default serverDownPatienceMs). */
  serverDownPatienceMs?: number | undefined;
  /** Where the per-server catalog lives; defaultConfigDir() when undefined. */
  catalogDir?: string | undefined;
  /** Electron main passes a utilityProcess-based worker; Node uses child_process.fork. */
  spawnZipWorker?: (() => ZipWorkerHandle) | undefined;
}

/** Names every archive must keep for itself. */
export const reservedArchiveNames = [manifestName, checksumsName];
/** A file whose bytes flowed this much in a failed attempt resets the retry count. */
const progressResetBytes = 1024 * 1024;
const maxAttemptsPerFile = 100;
const stillWritingMinDelayMs = 3000;

export function stateDirOf(outDir: string): string {
  return join(resolve(outDir), stateFolderName);
}

/** Whether a destination holds an unfinished job that a rerun resumes. */
export function hasSavedJob(outDir: string): boolean {
  return existsSync(journalPath(stateDirOf(outDir)));
}

export function stagedPath(stateDir: string, item: JobItem): string {
  return join(stateDir, 'files', String(item.i));
}

/** What an unfinished job in a destination has: its source, and each file, done or not. */
export interface SavedJob {
  source: string;
  /** `kept`: bytes an unfinished file's part already holds (what a resume starts from). */
  files: Array<{ id: string; name: string; size: number | null; done: boolean; kept: number }>;
}

/** The saved job in a destination, or null: for offering interrupted jobs on launch and showing how far they got. */
export async function readJobState(outDir: string): Promise<SavedJob | null> {
  const stateDir = stateDirOf(outDir);
  const state = await readJournal(stateDir);
  if (!state) return null;
  const files: SavedJob['files'] = [];
  for (const item of state.items) {
    const done = state.done.get(item.i);
    files.push({ id: item.id, name: item.safePath, size: done?.size ?? item.size ?? null, done: done !== undefined, kept: done ? 0 : await keptPartBytes(state, stateDir, item) });
  }
  return { source: state.header.source, files };
}

/**
 * Cancel for good: drop the staging and journal of a destination's job, if it is the job of
 * `source`. A job of another source there is someone else's work: it is never deleted (a
 * start refused with JOB_MISMATCH, then cancelled, once deleted the job it was refused for).
 * Returns false when it left such a job alone. A run working there now (another job of the
 * app, or a CLI) holds the lock: LOCKED, and nothing is deleted under it.
 */
export async function discardJob(outDir: string, source: string): Promise<boolean> {
  const stateDir = stateDirOf(outDir);
  let release: () => Promise<void>;
  try {
    release = await acquireJobLock(stateDir, resolve(outDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true; // no job state there at all
    throw error;
  }
  try {
    const saved = await readJournal(stateDir); // a journal it cannot read (another version) stays too: it throws
    if (saved && saved.header.source !== normalizeSource(source)) return false;
    // Its unfinished archive's part (empty while stopped: see holdArchiveName) goes with it.
    const bundle = await loadBundleState(stateDir).catch(() => null);
    if (bundle) await removeArchiveParts(bundle.dir, bundle.base);
    await removeJobState(stateDir);
    return true;
  } finally {
    await release();
  }
}

/** A file's record of its failed attempts in this run. */
interface FileTries {
  /** Failures in a row without progress: what --retries counts. */
  failuresInARow: number;
  /** Attempts in all (capped by maxAttemptsPerFile). */
  attempts: number;
  checksumRetried: boolean;
  /** The hash carried from one attempt to the next (a resume continues it). */
  carry: HashCarry;
  lastObservedSize?: number;
  oneStream?: boolean;
  /** When its server-down failures began (see isServerDown); unset once it receives bytes. */
  downSince?: number;
  /** Already woken once when its server answered another file (see serverAnswered). */
  wokenForServer?: boolean;
}

interface Runtime {
  options: JobOptions;
  state: JobState;
  stateDir: string;
  journal: Journal;
  http: HttpClient;
  sink: OutputSink | null;
  loose: OutputFile[];
  tracker: ProgressTracker;
  /** Sizes learned for items listed without one (by item index), counted once in the totals. */
  learnedSizes: Map<number, number>;
  emit: (event: JobEvent) => void;
  signal: AbortSignal;
  failed: FailedFile[];
  active: Map<number, { item: JobItem; bytes: number }>;
  /** Per file (by item index): what its failed attempts so far decide about the next one. */
  tries: Map<number, FileTries>;
  /** Files waiting out a server-down delay, by item index: their server's origin (see serverAnswered). */
  waitingForServer: Map<number, string>;
  fatal: ReelpackError | null;
  stop: AbortController;
  /** Finished downloads still being committed (see commit()). */
  commits: Set<Promise<void>>;
  limiter: RateLimiter | undefined;
  /** Bytes an earlier run left in a file's part, counted as done when this run started. */
  precounted: Map<number, number>;
}

export async function runJob(options: JobOptions, emit: (event: JobEvent) => void, signal?: AbortSignal): Promise<JobSummary> {
  const outDir = resolve(options.outDir);
  const stateDir = stateDirOf(outDir);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) stop.abort();
  let tokenOrigin = options.source;
  try {
    tokenOrigin = normalizeSource(options.source); // "127.0.0.1:8765" is http://127.0.0.1:8765/
  } catch {
    // an unusable source fails with its USAGE error when it is listed
  }
  const http = new HttpClient({ auth: bearerAuth(options.token, tokenOrigin), stallTimeoutMs: options.stallTimeoutMs, connections: Math.max(4, options.concurrency * Math.max(2, options.segments ?? jobDefaults.segments)) });
  let release: (() => Promise<void>) | null = null;
  let rt: Runtime | null = null;
  try {
    checkJobOptions(options);
    await createDestination(outDir);
    release = await acquireJobLock(stateDir, outDir);
    const { state, resumed } = await loadOrCreateJob(options, outDir, stateDir, http, emit, stop.signal);
    // Before the journal is written: a new job refused for space leaves nothing behind, so a
    // rerun may choose other settings (volumes, another folder) instead of being held to these.
    if (!resumed && state.header.mode !== 'folder' && state.header.volumeSize !== undefined) {
      checkVolumeCount(state.header.volumeSize, state.items.reduce((sum, item) => sum + (item.size ?? 0), 0));
    }
    await checkJobFreeSpace(outDir, state, (item) => `${stagedPath(stateDir, item)}.part`, options.concurrency);
    const journal = await Journal.create(stateDir, state);
    const bytesTotal = state.items.reduce((sum, item) => sum + (item.size ?? 0), 0);
    const unsizedFiles = state.items.filter((item) => item.size === undefined).length;
    emit({ type: 'listed', source: state.header.source, kind: state.header.kind, files: state.items.length, bytes: bytesTotal, unsizedFiles, resumed });
    const tracker = new ProgressTracker(bytesTotal, state.items.length, unsizedFiles);
    const sink = await createArchiveSink(options, state, outDir, stateDir, emit, stop.signal);
    rt = { options, state, stateDir, journal, http, sink, loose: [], tracker, learnedSizes: new Map(), emit, signal: stop.signal, failed: [], active: new Map(), tries: new Map(), waitingForServer: new Map(), fatal: null, stop, commits: new Set(), limiter: options.limitRate ? new RateLimiter(options.limitRate) : undefined, precounted: new Map() };
    return await execute(rt);
  } catch (error) {
    const err = toReelpackError(error);
    if (err.code === 'NOTHING_NEW') {
      emit({ type: 'warning', message: err.message });
      await removeJobState(stateDir);
      return { type: 'summary', ok: true, files: 0, bytes: 0, networkBytes: 0, failed: [], outputs: [] };
    }
    // The job stops itself (aborting its own controller) on a fatal error: that is not a cancel.
    const cancelled = !rt?.fatal && (signal?.aborted === true || err.code === 'CANCELLED');
    await rt?.sink?.abort().catch(() => {});
    const data: ErrorData = cancelled ? { code: 'CANCELLED', message: 'cancelled; run the same command again to resume' } : err.toData();
    return {
      type: 'summary',
      ok: false,
      files: rt ? rt.state.done.size : 0,
      bytes: rt ? rt.tracker.bytesDone : 0,
      networkBytes: rt ? rt.tracker.networkBytes : 0,
      failed: rt?.failed ?? [],
      outputs: [],
      error: data,
    };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    rt?.tracker.stop();
    await rt?.journal.close().catch(() => {});
    await http.close();
    await release?.();
    // A run that stopped before it had a journal (the listing failed, or was cancelled) leaves
    // no empty .reelpack behind; rmdir leaves a folder with anything in it alone.
    await rmdir(stateDir).catch(() => {});
  }
}

/**
 * A local folder source never takes in the job's own destination: with --out inside it, a rerun
 * bundled its earlier archive (zips/…_results_….zip) or copied its copies (copy/copy/c1.mp4).
 * The destination being the source folder itself is refused.
 */
function withoutOwnOutput(items: ResultItem[], source: string, outDir: string): ResultItem[] {
  const inside = (file: string, dir: string) => {
    const rel = relative(dir, file);
    return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel); // "..out" is a child
  };
  if (resolve(outDir) === resolve(source)) throw new ReelpackError('USAGE', `--out is the source folder itself (${outDir}): choose another folder for the downloads and archives`);
  if (!inside(resolve(outDir), resolve(source))) return items;
  return items.filter((item) => !inside(resolve(item.url), resolve(outDir)));
}

/**
 * A resumed job asks the server again what its unfinished files should be: a result
 * regenerated while the job was stopped (or a listing corrected since) has a new SHA-256 and
 * size, and checking against the first listing's would fail it on every run. Only when some
 * unfinished file is checked against the listing (a checksum or a size); a listing that fails now keeps the saved
 * values (the server may be down: the downloads wait for it). The journal is rewritten with
 * the new values when it is reopened.
 */
async function refreshExpectations(state: JobState, options: JobOptions, http: HttpClient, signal: AbortSignal): Promise<void> {
  if (!state.items.some((item) => !state.done.has(item.i) && (item.sha256 !== undefined || item.size !== undefined))) return;
  const listing = await listSource(state.header.source, { token: options.token, depth: options.depth, kind: state.header.kind, signal }, http).catch(() => null);
  if (!listing) return;
  const now = new Map(listing.items.map((item) => [item.id, item]));
  for (const item of state.items) {
    const current = now.get(item.id);
    if (!current || state.done.has(item.i)) continue;
    item.sha256 = current.sha256;
    if (current.size !== undefined) item.size = current.size;
  }
}

async function loadOrCreateJob(
  options: JobOptions, outDir: string, stateDir: string, http: HttpClient, emit: (e: JobEvent) => void, signal: AbortSignal,
): Promise<{ state: JobState; resumed: boolean }> {
  const source = normalizeSource(options.source);
  const saved = await readJournal(stateDir);
  if (saved) {
    if (saved.header.source !== source) {
      throw new ReelpackError('JOB_MISMATCH', `${outDir} holds an unfinished job for ${saved.header.source}; run that again to finish it, or choose another folder`);
    }
    // The job keeps the settings it started with; say so when this run asked for others.
    // --allow-partial is the exception: it only decides what happens at the end, so a rerun may
    // add or drop it (the app's "Bundle without them" does), and the journal keeps the new choice.
    // So are the archive's name and volume size while no archive of it is finished: the
    // unfinished one is rebuilt from the staged files anyway (a FAT32 drive that refused a 4 GiB
    // archive is answered by running again with --volume-size 4000m, nothing downloaded again).
    const header = saved.header;
    const changed = await adoptArchiveSettings(header, options, stateDir);
    if (changed.length > 0) {
      if (header.volumeSize !== undefined) checkVolumeCount(header.volumeSize, saved.items.reduce((sum, item) => sum + (item.size ?? 0), 0));
      emit({ type: 'warning', message: `the unfinished job in ${outDir} goes on with ${changed.join(', ')} (no archive of it was finished yet)` });
    }
    const kept = [
      options.mode !== header.mode && `--mode ${header.mode}`,
      options.zipName !== undefined && options.zipName !== header.zipName && `--zip ${header.zipName ?? '(the default name)'}`,
      options.volumeSize !== undefined && options.volumeSize !== header.volumeSize && `--volume-size ${header.volumeSize === undefined ? 'none' : formatSizeOption(header.volumeSize)}`,
    ].filter((setting) => setting !== false);
    if (kept.length > 0) {
      emit({ type: 'warning', message: `resuming the unfinished job in ${outDir} with its earlier settings: ${kept.join(', ')} (to change them, let it finish or choose another folder)` });
    }
    header.allowPartial = options.allowPartial;
    // Failed files get another chance on every run.
    saved.failed.clear();
    await refreshExpectations(saved, options, http, signal);
    return { state: saved, resumed: true };
  }
  emit({ type: 'listing', source });
  const onProgress = (p: ListingProgress) => emit({ type: 'listing', source, found: p.found, total: p.total });
  const listing = await listSource(source, { token: options.token, depth: options.depth, kind: options.kind, signal, onProgress }, http);
  let chosen = listing.items;
  if (listing.kind === 'folder') chosen = withoutOwnOutput(chosen, listing.source, outDir);
  if (options.selectIds) {
    const wanted = new Set(options.selectIds);
    chosen = chosen.filter((item) => wanted.has(item.id));
  }
  if (options.onlyNew) {
    const fetched = await loadCatalog(options.catalogDir ?? defaultConfigDir(), listing.source, listing.kind);
    chosen = chosen.filter((item) => !fetched.has(item.id));
    if (chosen.length === 0) throw new ReelpackError('NOTHING_NEW', `nothing new at ${listing.source}: all ${listing.items.length} results were fetched before`);
  } else if (!options.selectIds) {
    // The same command run again (a schedule, a habit) fetches the whole batch again: say so
    // while it can still be stopped. (A selection made in the app is the user's own choice.)
    const fetched = await loadCatalog(options.catalogDir ?? defaultConfigDir(), listing.source, listing.kind);
    const before = chosen.filter((item) => fetched.has(item.id)).length;
    if (before > 0) {
      emit({ type: 'warning', message: `${before === chosen.length ? `all ${chosen.length}` : `${before} of ${chosen.length}`} results were fetched from this source before and are fetched again; --only-new fetches only the new ones` });
    }
  }
  if (chosen.length === 0) throw new ReelpackError('EMPTY_LISTING', `none of the selected results are at ${listing.source}`);
  const names = new UniquePathAllocator();
  for (const reserved of reservedArchiveNames) names.reserve(reserved);
  names.reserve(stateFolderName);
  const items: JobItem[] = chosen.map((item, i) => ({ ...item, i, safePath: names.allocate(item.name) }));
  for (const skip of listing.skipped) emit({ type: 'warning', message: `skipped ${skip.name}: ${skip.reason}` });
  for (const message of listing.warnings ?? []) emit({ type: 'warning', message });
  const header: JobHeader = {
    t: 'job', v: journalVersion, source: listing.source, kind: listing.kind, mode: options.mode, zipName: options.zipName,
    volumeSize: options.volumeSize, allowPartial: options.allowPartial, createdAt: new Date().toISOString(),
  };
  return { state: { header, items, validators: new Map(), segments: new Map(), done: new Map(), failed: new Map() }, resumed: false };
}

/** The archive writer for zip/both modes; null for folder mode. Loaded only when needed. */
async function createArchiveSink(options: JobOptions, state: JobState, outDir: string, stateDir: string, emit: (e: JobEvent) => void, signal: AbortSignal): Promise<OutputSink | null> {
  if (state.header.mode === 'folder') return null;
  const { createZipSink } = await import('../bundle/zip-sink.ts');
  let itemsById: Map<string, JobItem> | undefined;
  return createZipSink(
    { outDir, stateDir, source: { url: state.header.source, kind: state.header.kind }, emit, signal },
    {
      zipName: state.header.zipName,
      volumeSize: state.header.volumeSize,
      expectedFiles: state.items.length,
      expectedBytes: state.items.reduce((s, i) => s + (i.size ?? 0), 0),
      spawnWorker: options.spawnZipWorker,
      stagingLimit: stagingLimitBytes(state.header, state.items, options.concurrency),
      // Staged copies of files safely inside a finished, verified volume are not needed any more.
      onReleased: (ids) => {
        if (state.header.mode !== 'zip') return;
        // By id, not a scan of every item: a rerun releases already archived files one by one.
        itemsById ??= new Map(state.items.map((item) => [item.id, item]));
        for (const id of ids) {
          const item = itemsById.get(id);
          if (item && isHttpSource(item.url)) void unlink(stagedPath(stateDir, item)).catch(() => {});
        }
      },
    },
  );
}

/**
 * Why the archive cannot take a file done by an earlier run from where it is, if it cannot: its
 * staged copy was released into a finished volume that is now missing, the loose file it is read
 * from (both mode) was moved, a power cut lost the staged file's name, or its bytes are no longer
 * the ones hashed (another size; a local file read in place was rewritten since: its mtime
 * moved). Without this the archive failed on it on every run, or held other bytes than its
 * manifest says, and nothing ever read it again.
 */
async function copyGone(rt: Runtime, file: VerifiedFile, done: DoneFact): Promise<string | null> {
  if (!rt.sink || rt.sink.holds?.(file.id, done.sha256)) return null;
  const readFrom = rt.state.header.mode !== 'zip' && done.finalPath ? join(resolve(rt.options.outDir), done.finalPath) : file.path;
  const now = await stat(readFrom).catch(() => null);
  if (!now) return 'the copy saved earlier is gone before its archive was built (a finished archive holding it was deleted or moved, or the file was)';
  const inPlaceSource = readFrom === file.sourceUrl && done.lastModified !== undefined;
  if (now.size !== done.size || (inPlaceSource && Math.floor(now.mtimeMs / 1000) !== Math.floor(Date.parse(done.lastModified!) / 1000))) {
    return 'the file changed since it was read (another size or modification time)';
  }
  return null;
}

/** Puts a verified file where it belongs: loose into the folder (folder/both), then into the archive (zip/both). */
async function deliver(rt: Runtime, file: VerifiedFile, done: DoneFact): Promise<void> {
  let delivered = file;
  if (rt.state.header.mode !== 'zip') {
    const outDir = resolve(rt.options.outDir);
    const relative = done.finalPath ?? (await placeLooseFile(outDir, file));
    if (!done.finalPath) {
      done.finalPath = relative;
      await rt.journal.append({ ...done });
    }
    rt.loose.push(looseOutput(outDir, relative, file));
    delivered = { ...file, path: join(outDir, relative) };
  }
  await rt.sink?.add(delivered);
}

async function execute(rt: Runtime): Promise<JobSummary> {
  const { state, tracker, emit, stateDir } = rt;
  await mkdir(join(stateDir, 'files'), { recursive: true });
  // Before the first download: a short disk fails now, and the worker starts while we fetch.
  await rt.sink?.prepare();
  // Files finished by an earlier run go to the sink again (it skips what it already holds).
  for (const item of state.items) {
    const done = state.done.get(item.i);
    if (!done) continue;
    const file = verifiedFile(rt, item, done);
    const gone = await copyGone(rt, file, done);
    if (gone) {
      state.done.delete(item.i);
      await rt.journal.append({ t: 'redo', i: item.i });
      emit({ type: 'warning', message: `${item.safePath}: ${gone}; ${isHttpSource(item.url) ? 'downloading' : 'reading'} it again` });
      continue;
    }
    tracker.addBytes(done.size, false);
    learnSize(rt, item, done.size);
    tracker.filesDone++;
    await deliver(rt, file, done);
  }
  // Bytes an earlier run kept in part files count as done at once: a resumed job must not show
  // less than it had when it stopped. Settled when each file completes (worker()).
  for (const item of state.items) {
    if (state.done.has(item.i)) continue;
    const kept = await keptPartBytes(rt.state, rt.stateDir, item);
    if (kept > 0) {
      rt.precounted.set(item.i, kept);
      tracker.addBytes(kept, false);
    }
  }
  const queue = new WorkQueue(state.items.filter((item) => !state.done.has(item.i)));
  for (const item of state.items) {
    if (!state.done.has(item.i)) emit({ type: 'file', id: item.id, name: item.safePath, state: 'queued', size: item.size });
  }
  tracker.start(emit, () => {
    for (const { item, bytes } of rt.active.values()) {
      emit({ type: 'file', id: item.id, name: item.safePath, state: 'downloading', size: knownSize(rt, item), bytesDone: (rt.precounted.get(item.i) ?? 0) + bytes });
    }
  });
  // A cancel that came while getting ready (or delivering earlier files) closes it at once.
  if (rt.signal.aborted) queue.close();
  else rt.signal.addEventListener('abort', () => queue.close(), { once: true });
  // A worker that throws (the journal cannot be written: disk full, I/O error) stops the whole
  // job; the others must not keep downloading after runJob has given up and released the lock.
  const workers = Array.from({ length: Math.max(1, rt.options.concurrency) }, () => worker(rt, queue).catch((error: unknown) => {
    rt.fatal ??= toReelpackError(error);
    rt.stop.abort();
  }));
  await Promise.all(workers);
  await Promise.all(rt.commits);
  tracker.stop();
  // The last figures, also for a run that stops here: files committed after the last tick
  // would otherwise be missing from the paused job's count.
  emit(tracker.event());
  if (rt.fatal) throw rt.fatal;
  if (rt.signal.aborted) throw new ReelpackError('CANCELLED', 'cancelled');

  const complete = rt.failed.length === 0;
  let outputs: OutputFile[] = [];
  if (complete || state.header.allowPartial) {
    outputs = [...(rt.sink ? await rt.sink.finish({ failed: rt.failed }) : []), ...rt.loose];
  } else {
    // Some files failed: no archive yet (a later run finishes it); loose files are kept.
    await rt.sink?.abort();
    outputs = rt.loose;
  }
  await recordFetched(rt.options.catalogDir ?? defaultConfigDir(), state.header.source, state.header.kind, [...state.done.entries()].map(([i, d]) => ({
    id: state.items[i]!.id, size: d.size, sha256: d.sha256, etag: d.etag, fetchedAt: new Date().toISOString(),
  }))).catch((error: unknown) => emit({ type: 'warning', message: `could not update the catalog: ${(error as Error).message}` }));
  if (complete || state.header.allowPartial) {
    await rt.journal.close();
    // The job is done and its outputs are in place: a working folder that cannot be deleted
    // (a file held open on Windows) is left with a word, not turned into a failed job.
    await removeJobState(stateDir).catch((error: unknown) => emit({ type: 'warning', message: `could not delete the job's working folder ${stateDir} (${(error as Error).message}); it can be deleted by hand` }));
  }
  return {
    type: 'summary',
    ok: complete,
    files: state.done.size,
    bytes: [...state.done.values()].reduce((s, d) => s + d.size, 0),
    networkBytes: tracker.networkBytes,
    failed: rt.failed,
    outputs,
  };
}

/** Takes this run's --zip and --volume-size for a resumed job none of whose archives is finished yet; returns what changed. */
async function adoptArchiveSettings(header: JobHeader, options: JobOptions, stateDir: string): Promise<string[]> {
  if (header.mode === 'folder' || options.mode !== header.mode) return [];
  const bundle = await loadBundleState(stateDir);
  if (bundle && (bundle.volumes.length > 0 || bundle.outputs !== undefined)) return [];
  const changed: string[] = [];
  if (options.volumeSize !== undefined && options.volumeSize !== header.volumeSize) {
    header.volumeSize = options.volumeSize;
    changed.push(`--volume-size ${formatSizeOption(options.volumeSize)}`);
  }
  if (options.zipName !== undefined && options.zipName !== header.zipName) {
    header.zipName = options.zipName;
    changed.push(`--zip ${options.zipName}`);
  }
  return changed;
}

/** Makes the bytes counted in advance for a file's kept part `bytes` (0 when the part was discarded). */
function settlePrecounted(rt: Runtime, item: JobItem, bytes: number): void {
  const before = rt.precounted.get(item.i) ?? 0;
  if (before === bytes) return;
  rt.tracker.addBytes(bytes - before, false);
  if (bytes > 0) rt.precounted.set(item.i, bytes);
  else rt.precounted.delete(item.i);
}

/**
 * What the next attempt at a file resumes from: the ranges of a segmented plan, or a part kept
 * under a validator, judged as the downloaders judge it (planResumable, ifRangeOf). Anything else
 * starts from zero, and counting it would show more than 100 %.
 */
async function keptPartBytes(state: JobState, stateDir: string, item: JobItem): Promise<number> {
  // A file never started has neither a plan nor a validator: no stat for it (a resumed batch of
  // 100 000 files asks this of every unfinished one, at every resume and app launch).
  const plan = state.segments.get(item.i);
  if (!isHttpSource(item.url) || (!plan && !ifRangeOf(state.validators.get(item.i)))) return 0;
  const partSize = await stat(stagedPath(stateDir, item) + '.part').then((s) => s.size, () => -1);
  if (plan) return planResumable(plan, item.size, partSize) ? plan.ranges.reduce((sum, r) => sum + Math.max(0, r.pos - r.start), 0) : 0;
  if (partSize <= 0) return 0;
  return item.size === undefined ? partSize : partSize > item.size ? 0 : partSize;
}

/** Counts the size of an item the listing gave none for, once, in the job's total. */
function learnSize(rt: Runtime, item: JobItem, bytes: number): void {
  if (item.size !== undefined || rt.learnedSizes.has(item.i)) return;
  rt.learnedSizes.set(item.i, bytes);
  rt.tracker.sizeLearned(bytes);
  rt.sink?.expectMore(bytes);
}

/** The size to show for an item: listed, or learned from its response. */
function knownSize(rt: Runtime, item: JobItem): number | undefined {
  return item.size ?? rt.learnedSizes.get(item.i);
}

function verifiedFile(rt: Runtime, item: JobItem, done: DoneFact): VerifiedFile {
  const inPlace = !isHttpSource(item.url) && rt.state.header.mode === 'zip';
  const lastModified = done.lastModified ? Date.parse(done.lastModified) : NaN;
  const created = item.createdAt ? Date.parse(item.createdAt) : NaN;
  return {
    id: item.id,
    safePath: item.safePath,
    path: inPlace ? item.url : done.finalPath ? join(resolve(rt.options.outDir), done.finalPath) : stagedPath(rt.stateDir, item),
    size: done.size,
    sha256: done.sha256,
    sourceUrl: item.url,
    etag: done.etag,
    lastModified: done.lastModified,
    createdAt: item.createdAt,
    params: item.params,
    mtimeMs: Number.isFinite(lastModified) ? lastModified : Number.isFinite(created) ? created : Date.now(),
  };
}

/**
 * Makes a finished download part of the job: fsync, rename out of .part, journal it as done
 * (durably, before anything may move or consume the data), then deliver it. A failure here
 * (disk full, the archive writer) stops the job.
 */
async function commit(rt: Runtime, item: JobItem, result: { size: number; sha256: string; validator: Validator }, part: string, local: boolean): Promise<void> {
  try {
    if (!local || rt.state.header.mode !== 'zip') {
      await syncFile(part);
      await retryWhileLocked(() => rename(part, stagedPath(rt.stateDir, item)));
    }
    const done: DoneFact = { t: 'done', i: item.i, size: result.size, sha256: result.sha256, etag: result.validator.etag, lastModified: result.validator.lastModified };
    rt.state.done.set(item.i, done);
    await rt.journal.append(done, true);
    rt.emit({ type: 'file', id: item.id, name: item.safePath, state: 'verified', size: result.size, bytesDone: result.size });
    await deliver(rt, verifiedFile(rt, item, done), done);
    rt.tracker.filesDone++;
  } catch (thrown) {
    const error = toReelpackError(thrown);
    if (rt.signal.aborted || error.code === 'CANCELLED') return;
    rt.fatal ??= error;
    rt.stop.abort();
  }
}

async function worker(rt: Runtime, queue: WorkQueue<JobItem>): Promise<void> {
  for (;;) {
    await rt.sink?.room?.(); // zip mode with volumes: not too far ahead of the archive
    const item = await queue.take();
    if (!item) break;
    rt.waitingForServer.delete(item.i);
    const memo = rt.tries.get(item.i) ?? { failuresInARow: 0, attempts: 0, checksumRetried: false, carry: { hash: null, offset: -1 } };
    rt.tries.set(item.i, memo);
    // A kept part counted at the start may have shrunk since (an attempt that restarted it failed).
    if (rt.precounted.has(item.i)) settlePrecounted(rt, item, await keptPartBytes(rt.state, rt.stateDir, item));
    const slot = { item, bytes: 0 };
    rt.active.set(item.i, slot);
    let attemptBytes = 0;
    const local = !isHttpSource(item.url);
    try {
      // A resumed file's row starts from what its part already holds, not from 0.
      rt.emit({ type: 'file', id: item.id, name: item.safePath, state: 'downloading', size: knownSize(rt, item), bytesDone: rt.precounted.get(item.i) ?? 0 });
      const part = stagedPath(rt.stateDir, item) + '.part';
      const onBytes = (n: number) => {
        if (attemptBytes === 0 && rt.waitingForServer.size > 0 && !local) serverAnswered(rt, queue, item);
        slot.bytes += n;
        attemptBytes += n;
        rt.tracker.addBytes(n, !local);
      };
      const target = { url: item.url, partPath: part, expectedSize: item.size, expectedSha256: item.sha256 };
      const context = {
        http: rt.http, signal: rt.signal, validator: rt.state.validators.get(item.i), carry: memo.carry, limiter: rt.limiter, onBytes,
        onSize: (bytes: number) => learnSize(rt, item, bytes),
        onValidator: async (v: Validator) => {
          rt.state.validators.set(item.i, v);
          await rt.journal.append({ t: 'validator', i: item.i, ...v });
        },
        // The kept part was thrown away (a 200 to the range request): its bytes are not done any more.
        onRestartFromZero: () => settlePrecounted(rt, item, 0),
      };
      const segments = rt.options.segments ?? jobDefaults.segments;
      const result = local
        ? await readLocalFile(item.url, rt.state.header.mode === 'zip' ? null : part, { expectedSize: item.size, signal: rt.signal, onBytes })
        : segments > 1 && !memo.oneStream && (item.size ?? 0) >= (rt.options.segmentMinBytes ?? segmentThresholdBytes)
          ? await downloadSegmented(target, {
            ...context, segments, retries: rt.options.retries, saved: rt.state.segments.get(item.i),
            onPlan: async (plan) => {
              rt.state.segments.set(item.i, plan);
              await rt.journal.append({ t: 'segments', i: item.i, plan });
            },
          })
          : await downloadAttempt(target, context);
      learnSize(rt, item, result.size); // a response without Content-Length: known only now
      // Bytes already on disk before this attempt count as done too (less what was counted at the
      // start; negative when the file restarted from zero after all).
      const resumedBytes = result.size - slot.bytes - (rt.precounted.get(item.i) ?? 0);
      rt.precounted.delete(item.i);
      if (resumedBytes !== 0) rt.tracker.addBytes(resumedBytes, false);
      rt.active.delete(item.i);
      queue.finish();
      // Not "downloading" any more (a row at 100 % while its commit waited read as a download):
      // "verified" follows once the file is flushed and in the journal.
      rt.emit({ type: 'file', id: item.id, name: item.safePath, state: 'saving', size: result.size, bytesDone: result.size });
      // The fsync and hand-over run behind the next download instead of holding this slot.
      const committing = commit(rt, item, result, part, local).finally(() => rt.commits.delete(committing));
      rt.commits.add(committing);
      // A loop: every waiting worker wakes when one commit settles.
      while (rt.commits.size >= rt.options.concurrency * commitsPerConnection) await Promise.race(rt.commits);
    } catch (thrown) {
      rt.active.delete(item.i);
      const error = toReelpackError(thrown);
      // The attempt's bytes are in the part file, which the next attempt resumes from: they stay
      // counted (progress going back to 0 while a server restarts misled), as kept bytes that
      // the next attempt settles against what the part really holds, and a final failure drops.
      if (slot.bytes > 0) rt.precounted.set(item.i, (rt.precounted.get(item.i) ?? 0) + slot.bytes);
      if (thrown instanceof SegmentsUnsupportedError && !rt.signal.aborted) {
        // Fall back to one stream from zero: a segmented .part has holes a Range resume would trust.
        memo.oneStream = true;
        rt.state.segments.delete(item.i);
        rt.state.validators.delete(item.i);
        await truncate(stagedPath(rt.stateDir, item) + '.part', 0).catch(() => {});
        settlePrecounted(rt, item, 0);
        await rt.journal.append({ t: 'segments', i: item.i, plan: null });
        rt.emit({ type: 'warning', message: `${item.safePath}: ${error.message}; downloading in one stream` });
        queue.retryLater(item, 1);
        continue;
      }
      if (rt.signal.aborted || error.code === 'CANCELLED') {
        queue.finish();
        continue;
      }
      if (error.code === 'DISK_FULL' || error.code === 'WRITE_FAILED' || error.code === 'ZIP_FAILED' || error.code === 'INTERNAL') {
        rt.fatal ??= error;
        rt.stop.abort();
        queue.finish();
        continue;
      }
      memo.attempts++;
      memo.failuresInARow = attemptBytes >= progressResetBytes ? 1 : memo.failuresInARow + 1;
      if (attemptBytes > 0) {
        memo.downSince = undefined; // it answered: not down
        memo.wokenForServer = undefined;
      }
      // The server cannot be reached at all (see isServerDown): it is waited for before such
      // failures count against --retries.
      const serverDown = isServerDown(error);
      if (serverDown) memo.downSince ??= Date.now();
      // --retries 0 asks for no second try at all, down or not.
      const waitingForServer = serverDown && rt.options.retries > 0 && Date.now() - memo.downSince! < (rt.options.serverDownPatienceMs ?? serverDownPatienceMs);
      let delay: number;
      if (waitingForServer) {
        memo.failuresInARow = Math.min(memo.failuresInARow, 1); // the wait does not use up the retries
        delay = serverDownDelay(memo.attempts);
      } else if (error instanceof SizeChangedError || error.code === 'STILL_WRITING') {
        const observed = error instanceof SizeChangedError ? error.observedSize : undefined;
        // A file still being written grows; one that shrank below the listing is truncated or lying.
        if (observed !== undefined && observed === memo.lastObservedSize && observed > (item.size ?? 0)) {
          // The same new size twice, a while apart: the file settled. Take its size, in the
          // job's totals and the archive's.
          const grown = observed - (knownSize(rt, item) ?? 0);
          rt.tracker.bytesTotal += grown;
          rt.sink?.expectMore(grown);
          item.size = observed;
          await rt.journal.append({ t: 'size', i: item.i, size: observed });
          delay = 1;
        } else {
          memo.lastObservedSize = observed;
          delay = Math.max(stillWritingMinDelayMs, retryDelay({ attempt: memo.failuresInARow, maxRetries: rt.options.retries, code: error.code }));
          if (memo.failuresInARow > rt.options.retries) delay = 0;
        }
      } else if (error.code === 'CHECKSUM_MISMATCH' && !memo.checksumRetried) {
        memo.checksumRetried = true; // re-download once, then fail
        delay = 1;
        // From zero: a plan would still say every range is there.
        if (rt.state.segments.delete(item.i)) await rt.journal.append({ t: 'segments', i: item.i, plan: null });
      } else {
        delay = retryDelay({ attempt: memo.failuresInARow, maxRetries: rt.options.retries, code: error.code, statusCode: error.statusCode, retryAfterMs: error.retryAfterMs });
      }
      if (delay > 0 && memo.attempts < maxAttemptsPerFile) {
        rt.emit({ type: 'file', id: item.id, name: item.safePath, state: 'retrying', size: knownSize(rt, item), attempt: memo.attempts + 1, retryInMs: delay, waitingForServer: waitingForServer || undefined, reason: error.message, code: error.code, httpStatus: error.statusCode });
        if (waitingForServer && !memo.wokenForServer) rt.waitingForServer.set(item.i, new URL(item.url).origin);
        queue.retryLater(item, delay);
      } else {
        learnSize(rt, item, 0); // nothing more is coming for it
        settlePrecounted(rt, item, 0); // its kept bytes are not part of what arrived
        const reason = error.retryAfterMs !== undefined && error.retryAfterMs > retryAfterCapMs
          ? `${error.message}; the server asks to wait ${Math.ceil(error.retryAfterMs / 60_000)} min, longer than the ${retryAfterCapMs / 60_000} min Reelpack waits: run the job again later`
          : error.message;
        rt.failed.push({ name: item.safePath, reason, id: item.id, sourceUrl: item.url, code: error.code, httpStatus: error.statusCode });
        rt.state.failed.set(item.i, reason);
        await rt.journal.append({ t: 'failed', i: item.i, reason }).catch(() => {});
        rt.emit({ type: 'file', id: item.id, name: item.safePath, state: 'failed', size: knownSize(rt, item), reason, code: error.code, httpStatus: error.statusCode });
        queue.finish();
      }
    }
  }
}

/**
 * A download from `item`'s server is receiving bytes: the files waiting for that server (see
 * isServerDown) are retried now rather than after their backoff, up to 30 s, and show as queued
 * again. Each file is woken once per wait: one whose own requests keep failing while others
 * succeed (a 502 for that file only) goes back to its backoff rather than being retried on
 * every other file's start.
 */
function serverAnswered(rt: Runtime, queue: WorkQueue<JobItem>, item: JobItem): void {
  const origin = new URL(item.url).origin;
  const woken = queue.wakeWaiting((waiting) => rt.waitingForServer.get(waiting.i) === origin);
  for (const file of woken) {
    rt.waitingForServer.delete(file.i);
    rt.tries.get(file.i)!.wokenForServer = true;
    rt.emit({ type: 'file', id: file.id, name: file.safePath, state: 'queued', size: knownSize(rt, file) });
  }
}
