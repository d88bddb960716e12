// The contract implemented on the engine: plain Node, no Electron. Electron main and the
// browser host both build exactly this object and only wire its commands and events.
import { jobDefaults } from '../jobs/job-defaults.ts';
import type { ZipWorkerHandle } from '../../worker/zip-protocol.ts';
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type {
  AppInfo,
  Connection,
  ContractHandlers,
  EventListener,
  Events,
  FolderCheck,
  JobRecord,
  JobProgress,
  JobSnapshot,
  Locale,
  ResultRow,
  Settings,
  StartJobArgs,
} from '../contract.ts';
import { ContractFailure } from '../contract.ts';
import type { ListingProgress, ResultItem } from '../sources/source-types.ts';
import type { SavedJob } from '../jobs/job-runner.ts';
import { engine as realEngine } from './engine.ts';
import type { Engine, JobOptions } from './engine.ts';
import { checkFolder, expandFolderPath } from './folder-check.ts';
import { spaceNeeded } from '../jobs/job-preflight.ts';
import { isHttpSource, normalizeSource } from '../sources/list-source.ts';
import { safeRelativePath } from '../names/safe-path.ts';
import { defaultArchiveBase } from '../bundle/archive-naming.ts';
import { readJsonFile, serialWriter } from './json-file.ts';
import { isActive, JobSession, savedProgress } from './job-session.ts';
import { folderKey } from '../jobs/job-lock.ts';
import type { JobChange } from './job-session.ts';
import { SettingsStore } from './settings-store.ts';
import type { SecretStore } from './settings-store.ts';

/** What differs between the Electron shell and the browser host. */
export interface AppPlatform {
  shell: 'electron' | 'browser';
  chooseFolder?: ((defaultPath: string | undefined) => Promise<string | null>) | undefined;
  openPath: (target: string) => Promise<void>;
  showItemInFolder: (target: string) => Promise<void>;
  secrets?: SecretStore | undefined;
  /** Electron: a zip worker under utilityProcess (passed through to the bundler). */
  spawnZipWorker?: (() => ZipWorkerHandle) | undefined;
}

export interface AppServiceOptions {
  configDir: string;
  platform: AppPlatform;
  version?: string;
  systemLocale?: string;
  /** Minimum gap between job events sent to the UI. */
  eventThrottleMs?: number;
  engine?: Engine;
  /** Engine tuning (tests shorten these). */
  jobDefaults?: Partial<Pick<JobOptions, 'stallTimeoutMs' | 'retries' | 'depth' | 'concurrency'>>;
}

export interface AppService extends ContractHandlers {
  subscribe(listener: EventListener): () => void;
  /** Jobs running now, with their progress, for quit confirmation, power blocker and taskbar (not their file rows: this runs on every job event). */
  activeJobs(): { jobId: string; progress: JobProgress }[];
  /** Pauses every running job (their journals keep them resumable) and stops. */
  close(): Promise<void>;
}

interface StoredJob {
  record: JobRecord;
  args: Omit<StartJobArgs, 'token'> & { allowPartial?: boolean | undefined };
}

function paramsLine(params: unknown): string {
  if (params === undefined || params === null) return '';
  if (typeof params !== 'object') return String(params).slice(0, 300);
  const parts = Object.entries(params as Record<string, unknown>).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  return parts.join(', ').slice(0, 300);
}

function toRow(item: ResultItem): ResultRow {
  return { id: item.id, name: item.name, size: item.size ?? null, createdAt: item.createdAt ?? null, sha256: item.sha256 ?? null, params: paramsLine(item.params) };
}

/**
 * The app's floor for a volume size, above the engine's own minimum (minVolumeSize, 64 KiB):
 * the app asks for volumes in GB, and a value under 1 MiB there is a typo, not a plan. The
 * renderer reads it from AppInfo to flag such a value as it is typed.
 */
const appMinVolumeBytes = 1024 * 1024;

/** How often a connect in progress reports its count. */
const listingEventMs = 150;

function validVolumeSize(bytes: unknown): boolean {
  return Number.isSafeInteger(bytes) && (bytes as number) >= appMinVolumeBytes;
}

async function isFolder(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null))?.isDirectory() ?? false;
}

function need(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ContractFailure('BAD_ARGUMENT', message);
}

export async function createAppService(options: AppServiceOptions): Promise<AppService> {
  const engine = options.engine ?? realEngine;
  const { configDir, platform } = options;
  const catalogDir = configDir; // the catalog keeps its files under <configDir>/catalog/
  const settings = await SettingsStore.open(configDir, platform.secrets);
  const writeJobs = serialWriter(path.join(configDir, 'jobs.json'));
  const listeners = new Set<EventListener>();
  const sessions = new Map<string, JobSession>();
  const stored = new Map<string, StoredJob>();
  const tokens = new Map<string, string>(); // source → token typed this session (never written in clear)
  const listings = new Map<string, ResultItem[]>();
  /** The connect in progress: cancelConnect, or the next connect, stops it. */
  let connecting: AbortController | undefined;
  const defaults = { stallTimeoutMs: jobDefaults.stallTimeoutMs, retries: jobDefaults.retries, depth: jobDefaults.depth, ...options.jobDefaults };

  function emit<K extends keyof Events>(name: K, payload: Events[K]): void {
    for (const l of listeners) l(name, payload);
  }
  function saveJobs(): Promise<void> {
    return writeJobs({ jobs: [...stored.values()] });
  }
  function onChange(change: JobChange, statusChanged: boolean): void {
    const entry = stored.get(change.job.id);
    if (entry) entry.record = change.job;
    if (statusChanged) void saveJobs();
    emit('job', change);
  }

  async function tokenFor(source: string, given?: string): Promise<string | undefined> {
    return given || tokens.get(source) || (await settings.tokenFor(source));
  }

  function sessionFor(entry: StoredJob, queued?: ResultItem[]): JobSession {
    const session = new JobSession({
      record: entry.record,
      engine,
      throttleMs: options.eventThrottleMs ?? 150,
      onChange,
      queued: queued?.map((q) => ({ id: q.id, name: q.name, size: q.size ?? null })),
      saved: savedFiles.get(entry.record.id),
      options: async () => ({
        source: entry.args.source,
        outDir: entry.args.outDir,
        mode: entry.args.mode,
        zipName: entry.args.zipName,
        volumeSize: entry.args.volumeSize,
        selectIds: entry.args.selectIds,
        onlyNew: entry.args.onlyNew,
        token: await tokenFor(entry.args.source),
        concurrency: defaults.concurrency ?? settings.get().concurrency,
        stallTimeoutMs: defaults.stallTimeoutMs,
        retries: defaults.retries,
        depth: defaults.depth,
        allowPartial: entry.args.allowPartial ?? false,
        // "Bundle without them" is one more try, then the archive: not ten minutes of waiting for a server that is gone.
        serverDownPatienceMs: entry.args.allowPartial ? 0 : undefined,
        catalogDir,
        spawnZipWorker: platform.spawnZipWorker,
      }),
    });
    sessions.set(entry.record.id, session);
    return session;
  }

  /** Files of unfinished jobs from an earlier launch, for their sessions' rows (see readJobState). */
  const savedFiles = new Map<string, SavedJob['files']>();

  function getSession(jobId: unknown): JobSession {
    need(typeof jobId === 'string', 'jobId must be a string');
    const existing = sessions.get(jobId);
    if (existing) return existing;
    const entry = stored.get(jobId);
    if (!entry) throw new ContractFailure('NOT_FOUND', `no such job: ${jobId}`);
    return sessionFor(entry);
  }

  /** The other stopped jobs of `record`'s source and folder: they all work on one journal. */
  function supersededBy(record: JobRecord): StoredJob[] {
    const key = folderKey(record.outDir);
    return [...stored.values()].filter((e) => e.record.id !== record.id && e.record.source === record.source && folderKey(e.record.outDir) === key
      && e.record.status !== 'done' && e.record.status !== 'cancelled');
  }

  function busyIn(outDir: string): JobSession | undefined {
    const key = folderKey(outDir);
    return [...sessions.values()].find((s) => folderKey(s.record.outDir) === key && isActive(s.record.status));
  }

  // Jobs from earlier runs: what was running when the app stopped is offered for resume.
  const saved = await readJsonFile<{ jobs?: StoredJob[] }>(path.join(configDir, 'jobs.json'), {});
  for (const entry of saved.jobs ?? []) {
    if (!entry?.record?.id || !entry.args) continue;
    // A damaged history must not stop the app: only well-formed outputs are kept. Records
    // written before looseFiles existed listed every loose file among the outputs (a loose
    // file named *.zip is then taken for an archive, as the Done screen did then).
    const outputs = (Array.isArray(entry.record.outputs) ? entry.record.outputs : []).filter((o) => typeof o?.path === 'string');
    entry.record.outputs = typeof entry.record.looseFiles === 'number' ? outputs : outputs.filter((o) => /\.zip$/i.test(o.path));
    if (typeof entry.record.looseFiles !== 'number') entry.record.looseFiles = outputs.length - entry.record.outputs.length;
    if (typeof entry.record.filesDone !== 'number') entry.record.filesDone = entry.record.status === 'done' ? entry.record.filesTotal : 0;
    if (typeof entry.record.bytesDone !== 'number') entry.record.bytesDone = entry.record.status === 'done' ? entry.record.bytesTotal : 0;
    const status = entry.record.status;
    if (status === 'running' || status === 'pausing' || status === 'interrupted' || status === 'paused') {
      const state = await engine.readJobState(entry.record.outDir).catch(() => null);
      entry.record.status = state ? (status === 'paused' ? 'paused' : 'interrupted') : 'failed';
      if (state) {
        // How far it got, from its journal: the record may have been saved before the listing.
        savedFiles.set(entry.record.id, state.files);
        const { filesTotal, bytesTotal, filesDone, bytesDone } = savedProgress(state.files);
        Object.assign(entry.record, { filesTotal, bytesTotal, filesDone, bytesDone });
      }
      if (!state) entry.record.error = { code: 'NOT_FOUND', message: 'the job’s saved state is gone from its folder' };
    } else if (status === 'cancelling') {
      entry.record.discarded = await engine.discardJob(entry.record.outDir, entry.record.source).catch(() => false);
      entry.record.status = 'cancelled';
    }
    stored.set(entry.record.id, entry);
  }

  const service: AppService = {
    async getAppInfo(): Promise<AppInfo> {
      return {
        version: options.version ?? '0.0.0',
        shell: platform.shell,
        platform: process.platform,
        canBrowse: Boolean(platform.chooseFolder),
        canRememberTokens: settings.canRememberTokens,
        systemLocale: options.systemLocale ?? Intl.DateTimeFormat().resolvedOptions().locale,
        minVolumeBytes: appMinVolumeBytes,
      };
    },
    async getSettings(): Promise<Settings> {
      return settings.get();
    },
    async setLocale({ locale }): Promise<Settings> {
      need(locale === null || locale === 'en' || locale === 'zh-CN', 'locale must be en, zh-CN or null');
      await settings.setLocale(locale as Locale | null);
      emit('settings', settings.get());
      return settings.get();
    },
    async forgetServer({ url }): Promise<Settings> {
      need(typeof url === 'string', 'url must be a string');
      await settings.forgetServer(url);
      emit('settings', settings.get());
      return settings.get();
    },
    async connect({ url, token, rememberToken }): Promise<Connection> {
      need(typeof url === 'string' && url.trim() !== '', 'enter a server URL or a folder');
      need(token === undefined || typeof token === 'string', 'token must be a string');
      // A server, with or without http://; else a folder, "~" expanded. A relative path would be
      // resolved against wherever the app happens to run.
      const normalized = normalizeSource(url);
      const server = isHttpSource(normalized);
      const source = server ? url.trim() : expandFolderPath(url);
      need(server || path.isAbsolute(source), 'enter a server address (such as 192.168.1.20:8765) or a full folder path');
      // Tokens are kept under the normalised source (as listed): "127.0.0.1:8765" finds one saved for http://127.0.0.1:8765/.
      const useToken = await tokenFor(server ? normalized : source, token || undefined);
      connecting?.abort();
      const stop = new AbortController();
      connecting = stop;
      let lastShown = 0;
      const onProgress = ({ found, total }: ListingProgress) => {
        // A page or folder can take milliseconds: a few counts a second are enough to read.
        if (Date.now() - lastShown < listingEventMs) return;
        lastShown = Date.now();
        emit('listing', { found, total: total ?? null });
      };
      const listing = await engine.listSource(source, { token: useToken, depth: defaults.depth, signal: stop.signal, onProgress }).finally(() => {
        if (connecting === stop) connecting = undefined;
      });
      listings.set(listing.source, listing.items);
      if (useToken) tokens.set(listing.source, useToken);
      const totalBytes = listing.items.reduce((sum, i) => sum + (i.size ?? 0), 0);
      const fetched = await engine.loadCatalog(catalogDir, listing.source, listing.kind).catch(() => new Set<string>());
      await settings.rememberServer({ url: listing.source, kind: listing.kind, count: listing.items.length, totalBytes }, rememberToken ? useToken : undefined);
      emit('settings', settings.get());
      return {
        source: listing.source,
        kind: listing.kind,
        items: listing.items.map(toRow),
        totalBytes,
        skipped: listing.skipped,
        fetchedIds: [...fetched],
        defaultArchiveName: `${defaultArchiveBase({ url: listing.source, kind: listing.kind })}.zip`,
      };
    },
    async cancelConnect(): Promise<null> {
      connecting?.abort();
      return null;
    },
    async checkFolder({ path: folder, plan }): Promise<FolderCheck> {
      need(typeof folder === 'string', 'path must be a string');
      need(plan === undefined || (typeof plan === 'object' && plan !== null && typeof plan.source === 'string'), 'plan must name its source');
      if (plan) {
        need(plan.mode === 'zip' || plan.mode === 'folder' || plan.mode === 'both', 'plan mode must be zip, folder or both');
        need(Number.isSafeInteger(plan.bytes) && plan.bytes >= 0 && Number.isSafeInteger(plan.largestBytes) && plan.largestBytes >= 0, 'plan sizes must be byte counts');
        need(plan.volumeSize === undefined || validVolumeSize(plan.volumeSize), 'volume size must be at least 1 MiB');
      }
      const check = await checkFolder(folder, async (dir) => {
        const state = (await engine.readJobState(dir)) as { source?: unknown } | null;
        return state ? { source: typeof state.source === 'string' ? state.source : '' } : null;
      });
      check.busy = busyIn(check.path) !== undefined;
      if (plan) {
        // The job's own estimate (jobs/job-preflight.ts), so the screen and the job agree.
        const { downloads, archive } = spaceNeeded({
          mode: plan.mode,
          volumeSize: plan.mode === 'folder' ? undefined : plan.volumeSize,
          concurrency: defaults.concurrency ?? settings.get().concurrency,
          pendingBytes: plan.bytes,
          totalBytes: plan.bytes,
          largestBytes: plan.largestBytes,
          // A URL list read from a local file still downloads: go by the listed files when known,
          // else only a local folder is read in place (and a single local file, estimated high).
          downloads: listings.get(plan.source)?.some((item) => isHttpSource(item.url)) ?? (isHttpSource(plan.source) || !(await isFolder(plan.source))),
        });
        check.neededBytes = downloads + archive;
      }
      return check;
    },
    async chooseFolder({ defaultPath }): Promise<string | null> {
      if (!platform.chooseFolder) throw new ContractFailure('UNSUPPORTED', 'no folder dialog here: type the folder path');
      return platform.chooseFolder(typeof defaultPath === 'string' ? defaultPath : settings.get().lastFolder ?? undefined);
    },
    async startJob(args): Promise<JobSnapshot> {
      need(typeof args.source === 'string' && args.source !== '', 'source must be a string');
      need(args.mode === 'zip' || args.mode === 'folder' || args.mode === 'both', 'mode must be zip, folder or both');
      need(args.volumeSize === undefined || validVolumeSize(args.volumeSize), 'volume size must be at least 1 MiB');
      need(args.selectIds === undefined || (Array.isArray(args.selectIds) && args.selectIds.every((s) => typeof s === 'string')), 'selectIds must be strings');
      need(args.zipName === undefined || typeof args.zipName === 'string', 'zipName must be a string');
      const check = await service.checkFolder({ path: args.outDir });
      if (check.problem) throw new ContractFailure('BAD_ARGUMENT', `cannot save to ${check.path}: ${check.problem}`);
      if (busyIn(check.path)) throw new ContractFailure('BUSY', `a job is already running in ${check.path}`);
      if (args.token) tokens.set(args.source, args.token);
      const now = new Date().toISOString();
      // The app's bundle name is a file name in the chosen folder (the CLI's --zip may be a path):
      // made safe like every other name, and refused if it tries to be a path.
      const typedName = args.zipName?.trim() || undefined;
      need(typedName === undefined || !/[\\/]/.test(typedName), 'the bundle name is a file name: it cannot contain / or \\');
      need(typedName === undefined || !typedName.startsWith('.'), 'the bundle name cannot start with a dot (a hidden or empty name)');
      // ':' first: safeRelativePath drops a leading "a:" as a drive letter, which a name is not.
      const zipName = typedName === undefined ? undefined : safeRelativePath(typedName.replace(/:/g, '_'), 'bundle');
      const listed = listings.get(args.source);
      const wanted = args.selectIds ? new Set(args.selectIds) : null;
      const queued = listed?.filter((i) => !wanted || wanted.has(i.id));
      const entry: StoredJob = {
        record: {
          id: randomUUID(),
          source: args.source,
          outDir: check.path,
          mode: args.mode,
          zipName: zipName ?? null,
          status: 'running',
          createdAt: now,
          updatedAt: now,
          filesTotal: queued?.length ?? 0,
          bytesTotal: queued?.reduce((sum, item) => sum + (item.size ?? 0), 0) ?? 0,
          filesDone: 0,
          bytesDone: 0,
          failedCount: 0,
          outputs: [],
          looseFiles: 0,
          error: null,
        },
        args: { source: args.source, outDir: check.path, mode: args.mode, zipName, volumeSize: args.volumeSize, selectIds: args.selectIds, onlyNew: Boolean(args.onlyNew) },
      };
      // A stopped job of the same source in this folder is superseded: the new one resumes its
      // journal (the engine's), so the old record goes, and nothing can later discard, as its
      // own, downloads that are the new job's now. Finished and cancelled jobs stay as history.
      // No await from the busyIn check to here: a second start at the same time finds this one.
      for (const older of supersededBy(entry.record)) {
        stored.delete(older.record.id);
        sessions.delete(older.record.id);
      }
      stored.set(entry.record.id, entry);
      const session = sessionFor(entry, queued);
      session.start();
      // A convenience: failing to remember the folder must not report a running job as not started.
      await settings.setLastFolder(check.path).then(() => emit('settings', settings.get()), () => {});
      return session.snapshot();
    },
    async pauseJob({ jobId }): Promise<JobRecord> {
      const session = getSession(jobId);
      await session.pause();
      return session.snapshot().job;
    },
    async resumeJob({ jobId }): Promise<JobSnapshot> {
      const session = getSession(jobId);
      const status = session.record.status;
      if (isActive(status)) return session.snapshot();
      if (status === 'cancelled') throw new ContractFailure('BAD_ARGUMENT', 'a cancelled job cannot be resumed');
      if (busyIn(session.record.outDir)) throw new ContractFailure('BUSY', `a job is already running in ${session.record.outDir}`);
      session.start();
      return session.snapshot();
    },
    async cancelJob({ jobId }): Promise<JobRecord> {
      const session = getSession(jobId);
      if (session.record.status === 'done') throw new ContractFailure('BAD_ARGUMENT', 'the job is finished');
      // A stopped job whose folder another job now works in (it resumed the same journal): its
      // files are that job's now. (discardJob's lock refuses it too; this says why.)
      const other = busyIn(session.record.outDir);
      if (other && other !== session) throw new ContractFailure('BUSY', `another job is running in ${session.record.outDir}; cancel that one instead`);
      await session.cancel();
      return session.snapshot().job;
    },
    async retryFailed({ jobId, bundleWithout }): Promise<JobSnapshot> {
      need(bundleWithout === undefined || typeof bundleWithout === 'boolean', 'bundleWithout must be true or false');
      const session = getSession(jobId);
      if (session.record.status !== 'failed' && session.record.status !== 'done') {
        throw new ContractFailure('BAD_ARGUMENT', 'only a finished job can retry its failed files');
      }
      if (busyIn(session.record.outDir)) throw new ContractFailure('BUSY', `a job is already running in ${session.record.outDir}`);
      const entry = stored.get(session.record.id);
      if (entry && bundleWithout !== undefined) entry.args.allowPartial = bundleWithout;
      // The journal keeps every verified file: running the job again fetches only what failed.
      session.start();
      return session.snapshot();
    },
    async listJobs(): Promise<JobRecord[]> {
      return [...stored.values()].map((e) => ({ ...e.record })).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
    },
    async getJob({ jobId }): Promise<JobSnapshot> {
      return getSession(jobId).snapshot();
    },
    async forgetJob({ jobId }): Promise<JobRecord[]> {
      const session = getSession(jobId);
      if (isActive(session.record.status)) throw new ContractFailure('BUSY', 'pause or cancel the job first');
      // An unfinished job's downloads (its folder's .reelpack) would stay behind with nothing
      // left to resume or delete them: removing it from the list discards them, as Cancel does
      // (the screen asks first). Unless another job now works on that journal: they are its own.
      const other = busyIn(session.record.outDir);
      const unfinished = session.record.status !== 'done' && session.record.status !== 'cancelled';
      const shared = supersededBy(session.record).length > 0; // another record resumes the same journal
      if (unfinished && !shared && !(other && other !== session)) await session.cancel();
      sessions.delete(session.record.id);
      stored.delete(session.record.id);
      await saveJobs();
      return service.listJobs({});
    },
    async openJobFolder({ jobId }): Promise<null> {
      await platform.openPath(getSession(jobId).record.outDir);
      return null;
    },
    async showOutput({ jobId, path: target }): Promise<null> {
      const session = getSession(jobId);
      const output = session.record.outputs.find((o) => o.path === target || path.join(session.record.outDir, o.path) === target);
      if (!output) throw new ContractFailure('NOT_FOUND', 'not an output of this job');
      await platform.showItemInFolder(path.resolve(session.record.outDir, output.path));
      return null;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    activeJobs() {
      return [...sessions.values()].filter((s) => isActive(s.record.status)).map((s) => ({ jobId: s.record.id, progress: s.currentProgress }));
    },
    async close() {
      const running = [...sessions.values()].filter((s) => s.isRunning);
      await Promise.all(running.map((s) => s.pause()));
      // A job stopped by quitting is offered again at the next launch. (One that finished while
      // pausing stays done; one being cancelled stays cancelling and is finished at the next launch.)
      for (const s of running) {
        if (s.record.status !== 'paused') continue;
        s.record.status = 'interrupted';
        const entry = stored.get(s.record.id);
        if (entry) entry.record = { ...s.record, outputs: [...s.record.outputs] };
      }
      await saveJobs();
      listeners.clear();
    },
  };
  return service;
}
