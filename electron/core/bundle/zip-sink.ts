// The ZIP output sink: verified files go into archives as they arrive, in a separate worker
// process, so zipping overlaps downloading and the app never stutters.
//
// Flow: add() queues a file into the open volume (or closes it and opens the next when the file
// would push it past the limit); the worker streams entries as it gets them. Closing a volume
// waits for its entries' CRC-32s, sends manifest.json + SHA256SUMS, and the worker fsyncs and
// reads the archive back; then "<name>.zip.part" is renamed (never over an existing file), the
// volume is recorded in the crash-safe state, and its staged files are released. finish() closes
// the last volume with the complete manifest (see manifest.ts for how volumes name the set).
import { minVolumeSize } from './volume-limits.ts';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ReelpackError, toReelpackError } from '../errors.ts';
import type { FailedFile, OutputFile } from '../jobs/job-events.ts';
import type { OutputSink, SinkContext, VerifiedFile } from '../jobs/output-sink.ts';
import { collisionKey, safeRelativePath } from '../names/safe-path.ts';
import type { ZipWorkerHandle } from '../../worker/zip-protocol.ts';
import { archiveFileName, chooseFreeBase, claimFreeBase, defaultArchiveBase, freeVolumeName, holdArchiveName, isBaseOrNumbered, longestVolumeName, removeArchiveParts, renameArchive, splitArchivePath } from './archive-naming.ts';
import { loadBundleState, saveBundleState } from './bundle-state.ts';
import { syncDir } from '../fs-sync.ts';
import type { BundleState, FinishedVolume } from './bundle-state.ts';
import { shouldCompress } from './compression-policy.ts';
import { forkZipWorker } from './fork-zip-worker.ts';
import { checkFreeSpace } from '../free-space.ts';
import { exactBytes, formatSizeOption } from '../units.ts';
import { checksumsLine, checksumsName, fileLine, manifestFileRecord, manifestFormat, manifestName, manifestVersion, serializeManifest } from './manifest.ts';
import type { ManifestHeader, ManifestVolume } from './manifest.ts';
import { VolumePlan } from './volume-plan.ts';
import { ZipWorkerClient } from './zip-worker-client.ts';

export interface ZipSinkOptions {
  /** --zip: archive name or path; default `{host}_results_{yyyyMMdd_HHmm}.zip` in the output folder. */
  zipName?: string | undefined;
  /** Bytes (see parseSize); each volume, headers and manifest included, stays within it. */
  volumeSize?: number | undefined;
  expectedFiles: number;
  expectedBytes: number;
  /** Starts the worker; default child_process.fork of zip-worker.ts with this Node. */
  spawnWorker?: (() => ZipWorkerHandle) | undefined;
  /** Files now inside a complete, verified, recorded archive: their staged copies may go. */
  onReleased?: ((ids: string[]) => void) | undefined;
  /**
   * With volumes, when released files are deleted (zip mode): `room()` holds the next download
   * while files added and not yet released, outside the open volume, exceed this many bytes.
   * The open volume is left out because it only finishes with more files; everything else
   * (volumes closing, files queued behind them) is released without new input, so a wait
   * always ends. See stagingLimitBytes and checkJobFreeSpace in jobs/job-preflight.ts.
   */
  stagingLimit?: number | undefined;
}

/** Smallest --volume-size accepted: room for headers and a manifest. */
export { minVolumeSize };
const reservedNames = new Set([manifestName.toLowerCase(), checksumsName.toLowerCase()]);
// Fixed-width stand-ins for values known only at close, so the planned manifest is never shorter.
const longestDate = '0000-00-00T00:00:00.000Z';
const longestNumber = Number.MAX_SAFE_INTEGER;

export function createZipSink(ctx: SinkContext, options: ZipSinkOptions): OutputSink {
  return new ZipSink(ctx, options);
}

interface OpenVolume {
  archiveId: number;
  volume: number | null;
  fileName: string;
  partPath: string;
  plan: VolumePlan;
  oversize: boolean;
  crcs: Map<string, number>;
  allRead: (() => void) | null;
}

class ZipSink implements OutputSink {
  private readonly ctx: SinkContext;
  private readonly options: ZipSinkOptions;
  private readonly limit: number | null;
  private started: Promise<void> | null = null;
  private queue: Promise<void> = Promise.resolve();
  private fatal: ReelpackError | null = null;
  private state!: BundleState;
  private client: ZipWorkerClient | null = null;
  private current: OpenVolume | null = null;
  private nextArchiveId = 1;
  /** Set-wide entry names (collisionKey, as the names were made) → file id. */
  private readonly names = new Map<string, string>();
  /** Files in finished volumes: id → SHA-256. */
  private readonly held = new Map<string, string>();
  /** Archives already reported with an 'output' event (see report). */
  private readonly reported = new Set<string>();
  private readonly accepted = new Set<string>();
  /** The first archive part, made empty to claim its name (claimFreeBase, holdArchiveName) until a volume is written in it. */
  private claimedPart: string | null = null;
  private bytesBefore = 0;
  private entriesBefore = 0;
  /** Added and not yet released, by id (the staging limit's account). */
  private readonly unreleased = new Map<string, number>();
  private unreleasedBytes = 0;
  private roomWaiters: Array<() => void> = [];
  /** Bytes of all files, for progress: the listing's sizes plus those learned since (expectMore). */
  private expectedBytes: number;

  constructor(ctx: SinkContext, options: ZipSinkOptions) {
    this.ctx = ctx;
    this.options = options;
    this.limit = options.volumeSize ?? null;
    this.expectedBytes = options.expectedBytes;
    if (this.limit !== null && !(this.limit >= minVolumeSize)) {
      throw new ReelpackError('USAGE', `volume size too small: ${this.limit} bytes (at least ${minVolumeSize})`);
    }
    ctx.signal.addEventListener('abort', () => void this.abort(), { once: true });
  }

  async add(file: VerifiedFile): Promise<void> {
    this.throwIfStopped();
    await this.prepare();
    if (this.accepted.has(file.id)) return;
    this.accepted.add(file.id);
    this.unreleased.set(file.id, file.size);
    this.unreleasedBytes += file.size;
    if (this.state.outputs) {
      // Every archive is already complete (a rerun after a crash before the job was cleared).
      this.release([file.id]);
      return;
    }
    this.enqueue(() => this.place(file)).catch(() => {});
  }

  async finish(result: { failed: FailedFile[] }): Promise<OutputFile[]> {
    this.throwIfStopped();
    await this.prepare();
    if (!this.state.outputs) {
      await this.enqueue(async () => {
        const singleDone = this.limit === null && this.state.volumes.length > 0;
        if (!singleDone) await this.closeVolume(this.current ?? this.openVolume(), result.failed);
      });
      this.state.outputs = this.state.volumes.map((v) => ({ path: path.join(this.state.dir, v.fileName), size: v.size, sha256: v.sha256 }));
      await saveBundleState(this.ctx.stateDir, this.state);
    }
    await this.client?.shutdown();
    for (const output of this.state.outputs) this.report(output);
    return this.state.outputs;
  }

  /**
   * Reports an archive once: each volume as soon as it is in place (a job that stops later,
   * cancelled or with failed files, still leaves it, and the user is told), and at the end
   * the ones finished by an earlier run.
   */
  private report(output: OutputFile): void {
    if (this.reported.has(output.path)) return;
    this.reported.add(output.path);
    this.ctx.emit({ type: 'output', ...output });
  }

  expectMore(bytes: number): void {
    this.expectedBytes += bytes;
  }

  async abort(): Promise<void> {
    this.setFatal(new ReelpackError('CANCELLED', 'cancelled'));
    await this.client?.cancel();
    // The unfinished archive is gone (the worker deletes it on cancel); an empty part keeps its
    // name this job's while the job is stopped. A cancel deletes it with the job (discardJob).
    const part = this.current?.partPath ?? (this.state?.volumes.length === 0 ? this.claimedPart : null);
    if (part) await holdArchiveName(part);
  }

  private throwIfStopped(): void {
    if (this.ctx.signal.aborted) this.setFatal(new ReelpackError('CANCELLED', 'cancelled'));
    if (this.fatal) throw this.fatal;
  }

  room(): Promise<void> {
    if (this.hasRoom()) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private hasRoom(): boolean {
    const limit = this.options.stagingLimit;
    if (limit === undefined || this.fatal || this.ctx.signal.aborted) return true;
    return this.unreleasedBytes - (this.current?.plan.bytes ?? 0) <= limit;
  }

  /** Wakes waiting downloads when the account moved (a release, a file placed, a failure). */
  private checkRoom(): void {
    if (this.roomWaiters.length === 0 || !this.hasRoom()) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  private setFatal(error: ReelpackError): void {
    if (this.fatal) return;
    this.fatal = error;
    this.checkRoom();
    this.current?.allRead?.();
    void this.client?.cancel();
  }

  private enqueue(operation: () => Promise<void>): Promise<void> {
    const run = this.queue.then(() => {
      if (this.fatal) throw this.fatal;
      return operation();
    });
    this.queue = run.catch((error: unknown) => this.setFatal(toReelpackError(error)));
    return run.then(() => {
      if (this.fatal) throw this.fatal;
    });
  }

  prepare(): Promise<void> {
    this.started ??= this.init();
    return this.started;
  }

  private async init(): Promise<void> {
    let saved = await loadBundleState(this.ctx.stateDir);
    if (saved && !saved.outputs && saved.volumes.length === 0 && this.settingsDiffer(saved)) {
      // Nothing finished yet, and the job runner took this run's --zip or --volume-size (see
      // adoptArchiveSettings): the unfinished part goes, and the archive starts over under them.
      await removeArchiveParts(saved.dir, saved.base);
      saved = null;
    }
    if (saved) {
      this.state = { ...saved, volumes: await this.keptVolumes(saved) };
      if (saved.outputs) return;
      if (this.settingsDiffer(saved)) {
        this.warn(`resuming the unfinished archive with its earlier settings: ${saved.base}, volume size ${saved.volumeSize === null ? 'none' : formatSizeOption(saved.volumeSize)}`);
      }
      await this.removeStalePartials();
    } else {
      const { dir, base } = this.options.zipName !== undefined
        ? splitArchivePath(this.ctx.outDir, this.options.zipName)
        : { dir: this.ctx.outDir, base: defaultArchiveBase(this.ctx.source) };
      await fs.mkdir(dir, { recursive: true });
      const first = this.firstVolume();
      const free = await claimFreeBase(dir, base, first);
      this.claimedPart = path.join(dir, `${archiveFileName(free, first)}.part`);
      // Said at the start, not first seen in the last line: a script may look for the name it gave.
      if (free !== base && this.options.zipName !== undefined) this.warn(`${archiveFileName(base, first)} is taken by another file: the archive will be ${archiveFileName(free, first)}${first === null ? '' : ' and its next volumes'}`);
      this.state = { version: 2, dir, base: free, volumeSize: this.limit, volumes: [] };
      await saveBundleState(this.ctx.stateDir, this.state);
    }
    for (const volume of this.state.volumes) {
      for (const file of volume.files) {
        this.held.set(file.id, file.sha256);
        this.names.set(collisionKey(file.path), file.id);
      }
      this.bytesBefore += volume.bytes;
      this.entriesBefore += volume.files.length;
    }
    const overhead = this.options.expectedFiles * 2048 + 1024 * 1024;
    await checkFreeSpace(this.state.dir, Math.max(0, this.expectedBytes - this.bytesBefore) + overhead, 'for the archive');
    this.client = new ZipWorkerClient((this.options.spawnWorker ?? forkZipWorker)(), {
      onEntry: (archiveId, entry) => this.entryRead(archiveId, entry.name, entry.crc32),
      onProgress: (archiveId, progress) => {
        // The worker bounds its rate (and sends a trailing report): forward every one.
        if (archiveId === this.current?.archiveId) this.progress(progress.bytesIn, progress.entries);
      },
      onVerifying: (archiveId) => {
        if (archiveId === this.current?.archiveId) this.ctx.emit({ type: 'bundle', state: 'verifying', path: this.finalPath(this.current) });
      },
      onFailure: (error) => this.setFatal(error),
    });
    // abort() may have landed while this init was awaiting: do not leave a worker behind, and
    // do not let the job start downloading either.
    if (this.fatal) {
      void this.client.cancel();
      throw this.fatal;
    }
  }

  /** Finished volumes that are still there, unchanged in size. */
  private async keptVolumes(saved: BundleState): Promise<FinishedVolume[]> {
    const kept: FinishedVolume[] = [];
    for (const volume of saved.volumes) {
      const finalPath = path.join(saved.dir, volume.fileName);
      const stats = await fs.stat(finalPath).catch(() => null);
      if (stats?.size === volume.size) {
        kept.push(volume);
        continue;
      }
      // Verified and recorded, but the crash came before its rename: finish the rename.
      const partial = await fs.stat(`${finalPath}.part`).catch(() => null);
      if (!stats && partial?.size === volume.size) {
        await renameArchive(`${finalPath}.part`, finalPath);
        kept.push(volume);
        continue;
      }
      this.warn(`finished archive missing or changed, its files go into the archive again (downloaded again where their copies were released): ${volume.fileName}`);
    }
    return kept;
  }

  /** The first archive's volume number: null for a single archive. */
  private firstVolume(): number | null {
    return this.limit === null ? null : 1;
  }

  /** Whether the archive was begun with another volume size or name than this run's (a taken name's " (2)" is the same name). */
  private settingsDiffer(saved: BundleState): boolean {
    if (saved.volumeSize !== this.limit) return true;
    if (this.options.zipName === undefined) return false;
    const { dir, base } = splitArchivePath(this.ctx.outDir, this.options.zipName);
    return dir !== saved.dir || !isBaseOrNumbered(saved.base, base);
  }

  /** A crash or a stop leaves "<name>.zip.part" (or ".partN.zip.part") behind: it is rebuilt, never resumed. */
  private async removeStalePartials(): Promise<void> {
    await removeArchiveParts(this.state.dir, this.state.base);
    // Until the worker writes it, the name stays claimed (see holdArchiveName).
    if (this.state.volumes.length === 0 && !this.state.outputs) {
      this.claimedPart = path.join(this.state.dir, `${archiveFileName(this.state.base, this.firstVolume())}.part`);
      await holdArchiveName(this.claimedPart);
    }
  }

  holds(id: string, sha256: string): boolean {
    // Outputs already complete (a crash after finish(), before the job state was removed): the
    // archives hold everything; add() reads nothing.
    return this.state.outputs !== undefined || this.held.get(id) === sha256;
  }

  private async place(file: VerifiedFile): Promise<void> {
    const heldSha = this.held.get(file.id);
    if (heldSha === file.sha256) {
      this.release([file.id]);
      return;
    }
    if (heldSha !== undefined) this.warn(`file changed since it was archived, adding it again: ${file.safePath}`);
    this.claimName(file);
    const compress = shouldCompress(file.safePath);
    let volume = this.current ?? this.openVolume();
    if (this.limit !== null && volume.plan.files.length > 0 && volume.plan.sizeWith(file, compress) > this.limit) {
      await this.closeVolume(volume, null);
      volume = this.openVolume();
    }
    const needed = volume.plan.sizeWith(file, compress);
    if (this.limit !== null && needed > this.limit) {
      volume.oversize = true;
      // Exact bytes: rounded, a 3 MiB file against `--volume-size 3m` read "3.1 MB > 3.1 MB".
      this.warn(`too large for one volume, so it gets a volume of its own: ${file.safePath} needs ${exactBytes(needed)} with its ZIP headers and the manifest, more than the volume size ${formatSizeOption(this.limit)} (${exactBytes(this.limit)})`);
    }
    volume.plan.add(file, compress);
    this.client!.add(volume.archiveId, { name: file.safePath, sourcePath: file.path, size: file.size, compress, mtimeMs: file.mtimeMs });
    this.checkRoom();
  }

  private claimName(file: VerifiedFile): void {
    const name = file.safePath;
    // Safety, not length: a path from a journal written before the 600-byte cap is still safe.
    if (safeRelativePath(name, undefined, Infinity) !== name) throw new ReelpackError('ZIP_FAILED', `unsafe entry name: ${JSON.stringify(name)}`);
    if (reservedNames.has(name.toLowerCase())) throw new ReelpackError('ZIP_FAILED', `entry name reserved for the archive's own use: ${name}`);
    const owner = this.names.get(collisionKey(name));
    if (owner !== undefined && owner !== file.id) throw new ReelpackError('ZIP_FAILED', `duplicate entry name: ${name}`);
    this.names.set(collisionKey(name), file.id);
  }

  private openVolume(): OpenVolume {
    let volume: number | null = null;
    if (this.limit !== null) volume = Math.max(0, ...this.state.volumes.map((v) => v.volume ?? 0)) + 1;
    const fileName = archiveFileName(this.state.base, volume);
    const open: OpenVolume = {
      archiveId: this.nextArchiveId++,
      volume,
      fileName,
      partPath: path.join(this.state.dir, `${fileName}.part`),
      plan: new VolumePlan(0),
      oversize: false,
      crcs: new Map(),
      allRead: null,
    };
    // Planned with room for a volume renamed at close (freeVolumeName), so it still fits.
    const renamed = volume === null ? open : { ...open, fileName: longestVolumeName(fileName) };
    const longest = serializeManifest(this.header(renamed, { files: longestNumber, bytes: longestNumber }, longestDate, undefined), []);
    open.plan = new VolumePlan(Buffer.byteLength(longest));
    this.current = open;
    this.client!.open(open.archiveId, open.partPath);
    this.progress(0, 0);
    return open;
  }

  private header(volume: OpenVolume, own: { files: number; bytes: number }, createdAt: string, failed: FailedFile[] | undefined): ManifestHeader {
    const volumes: ManifestVolume[] = this.state.volumes.map((v) => ({ name: v.fileName, files: v.files.length, bytes: v.bytes, size: v.size, sha256: v.sha256 }));
    volumes.push({ name: volume.fileName, ...own });
    return {
      format: manifestFormat,
      version: manifestVersion,
      createdAt,
      generator: 'Reelpack',
      source: { url: this.ctx.source.url, kind: this.ctx.source.kind },
      archive: { name: volume.fileName, volume: volume.volume, complete: failed !== undefined },
      volumes,
      failed,
    };
  }

  private entryRead(archiveId: number, name: string, crc32: number): void {
    const volume = this.current;
    if (archiveId !== volume?.archiveId) return;
    volume.crcs.set(name, crc32);
    const planned = volume.plan.fileNamed(name);
    if (planned) this.ctx.emit({ type: 'file', id: planned.file.id, name, state: 'zipped', size: planned.file.size });
    if (volume.crcs.size === volume.plan.files.length) volume.allRead?.();
  }

  /** `failed` given: the last volume, with the complete manifest. */
  private async closeVolume(volume: OpenVolume, failed: FailedFile[] | null): Promise<void> {
    if (volume.crcs.size < volume.plan.files.length) {
      await new Promise<void>((resolve) => (volume.allRead = resolve));
      if (this.fatal) throw this.fatal;
    }
    if (await fs.stat(this.finalPath(volume)).then(() => true, () => false)) {
      // Taken since the job chose it (another run given the same --zip, another program): a
      // free name rather than a job that fails on every run. A volume keeps its set's base
      // and gets its own number ("set.part3 (2).zip"); the manifests name it so.
      const taken = volume.fileName;
      if (volume.volume === null) {
        this.state.base = await chooseFreeBase(this.state.dir, this.state.base);
        volume.fileName = archiveFileName(this.state.base, null);
      } else {
        volume.fileName = await freeVolumeName(this.state.dir, this.state.base, volume.volume);
      }
      this.warn(`${taken} was taken by another file meanwhile: the ${volume.volume === null ? 'archive' : 'volume'} is ${volume.fileName}`);
    }
    const files = volume.plan.files.map((p) => p.file);
    const own = { files: files.length, bytes: volume.plan.bytes };
    const manifest = serializeManifest(
      this.header(volume, own, new Date().toISOString(), failed ?? undefined),
      files.map((file) => fileLine(manifestFileRecord(file, volume.crcs.get(file.safePath)!))),
    );
    const checksums = files.map((file) => checksumsLine(file.sha256, file.safePath)).join('');
    const needed = volume.plan.sizeWithTrailer(Buffer.byteLength(manifest), Buffer.byteLength(checksums));
    // (An oversize volume is over the limit anyway: the manifest goes in with its one file, not
    // into a volume holding nothing else.)
    if (failed && this.limit !== null && needed > this.limit && !volume.oversize) {
      if (files.length === 0) throw new ReelpackError('ZIP_FAILED', `volume size too small for the manifest: ${needed} bytes > ${this.limit}`);
      // The complete manifest (with the failed list) does not fit: it gets a volume of its own.
      await this.closeVolume(volume, null);
      await this.closeVolume(this.openVolume(), failed);
      return;
    }
    const { size, sha256 } = await this.client!.close(volume.archiveId, [
      { name: manifestName, text: manifest },
      { name: checksumsName, text: checksums },
    ]);
    if (this.limit !== null && size > this.limit && !volume.oversize) {
      await fs.rm(volume.partPath, { force: true });
      throw new ReelpackError('VERIFY_FAILED', `archive larger than the volume size: ${size} bytes > ${this.limit} in ${volume.fileName}`);
    }
    const finalPath = this.finalPath(volume);
    // Recorded before the rename: a crash between the two leaves a verified .part that the
    // next run renames (keptVolumes), instead of a final name nobody knows it owns.
    this.state.volumes.push({
      volume: volume.volume,
      fileName: volume.fileName,
      size,
      sha256,
      bytes: volume.plan.bytes,
      files: files.map((file) => ({ id: file.id, path: file.safePath, sha256: file.sha256 })),
    });
    await saveBundleState(this.ctx.stateDir, this.state);
    await renameArchive(volume.partPath, finalPath);
    await syncDir(this.state.dir);
    this.current = null;
    this.report({ path: finalPath, size, sha256 });
    for (const file of files) this.held.set(file.id, file.sha256);
    this.bytesBefore += volume.plan.bytes;
    this.entriesBefore += files.length;
    this.ctx.emit({ type: 'bundle', state: 'done', path: finalPath, bytesDone: this.bytesBefore, bytesTotal: this.expectedBytes, entries: this.entriesBefore });
    this.release(files.map((file) => file.id));
  }

  private finalPath(volume: OpenVolume): string {
    return path.join(this.state.dir, volume.fileName);
  }

  private progress(bytesIn: number, entries: number): void {
    this.ctx.emit({
      type: 'bundle',
      state: 'writing',
      path: this.current ? this.finalPath(this.current) : undefined,
      bytesDone: this.bytesBefore + bytesIn,
      bytesTotal: this.expectedBytes,
      entries: this.entriesBefore + entries,
    });
  }

  private release(ids: string[]): void {
    for (const id of ids) {
      const size = this.unreleased.get(id);
      if (size === undefined) continue;
      this.unreleased.delete(id);
      this.unreleasedBytes -= size;
    }
    if (ids.length > 0) this.options.onReleased?.(ids);
    this.checkRoom();
  }

  private warn(message: string): void {
    this.ctx.emit({ type: 'warning', message });
  }
}
