// The one API between the UI and the app, declared once (after Signal's Interface.std.ts).
// Electron main, the preload and the browser host are all derived from `Commands`, `Events`
// and the two runtime name lists below; nothing else lists a channel. Errors cross as data
// (`{ok:false,error}`) because Electron IPC keeps only an error's message.
// The renderer may import only types from this file (see eslint.config.js).
import type { ErrorCode } from './errors.ts';
import type { FileState, JobEvent, JobSummary, OutputFile } from './jobs/job-events.ts';
import type { SourceKind } from './sources/source-types.ts';

// ---------- data ----------

export type ContractErrorCode = ErrorCode | 'BAD_ARGUMENT' | 'NOT_FOUND' | 'UNSUPPORTED' | 'BUSY' | 'UNKNOWN_COMMAND';
export interface ContractError {
  code: ContractErrorCode;
  message: string;
}
export type Reply<T> = { ok: true; value: T } | { ok: false; error: ContractError };

export type Locale = 'en' | 'zh-CN';
export type BundleMode = 'zip' | 'folder' | 'both';

export interface RecentServer {
  url: string;
  kind?: SourceKind | undefined;
  count?: number | undefined;
  totalBytes?: number | undefined;
  lastUsed: string;
  /** A token is remembered (encrypted with safeStorage; never sent back to the UI). */
  hasToken: boolean;
}

export interface Settings {
  recentServers: RecentServer[];
  lastFolder: string | null;
  /** null: follow the OS / browser locale. */
  locale: Locale | null;
  concurrency: number;
}

export interface AppInfo {
  version: string;
  shell: 'electron' | 'browser';
  platform: NodeJS.Platform;
  /** A native folder dialog exists (Electron only). */
  canBrowse: boolean;
  /** Tokens can be remembered (Electron safeStorage available). */
  canRememberTokens: boolean;
  /** The OS locale as the app process sees it. */
  systemLocale: string;
  /** The smallest volume size the app accepts (startJob and checkFolder refuse less). */
  minVolumeBytes: number;
}

export interface ResultRow {
  id: string;
  name: string;
  size: number | null;
  createdAt: string | null;
  sha256: string | null;
  /** Generation parameters as the server gave them, flattened to one line for the table. */
  params: string;
}

export interface Connection {
  source: string;
  kind: SourceKind;
  items: ResultRow[];
  totalBytes: number;
  /** Results not downloadable (still processing, malformed…) with why. */
  skipped: { name: string; reason: string }[];
  /** Ids fetched from this server before (the "only new" filter). */
  fetchedIds: string[];
  /** The name a ZIP of this source gets by default (a job started now), for the bundle screen's example. */
  defaultArchiveName: string;
}

/** The job the bundle screen is about to start, for checkFolder's space estimate. */
export interface FolderPlan {
  source: string;
  mode: BundleMode;
  volumeSize?: number | undefined;
  /** Listed bytes of the selected files, and of the largest of them. */
  bytes: number;
  largestBytes: number;
}

export interface FolderCheck {
  path: string;
  exists: boolean;
  writable: boolean;
  /** Free bytes on the volume that holds it (or its nearest existing parent). */
  freeBytes: number | null;
  /**
   * Bytes the planned job needs there, estimated as the job checks it before it starts
   * (zip mode stages downloads: about twice the batch, less with volumes); null without a plan.
   */
  neededBytes: number | null;
  /** Why the folder cannot be used, when it cannot. */
  problem: string | null;
  /** An unfinished job waits in this folder. */
  interruptedJob: { source: string } | null;
  /** A job of this app is working in this folder now: a start there is refused (BUSY). */
  busy: boolean;
}

export interface StartJobArgs {
  source: string;
  token?: string | undefined;
  outDir: string;
  mode: BundleMode;
  zipName?: string | undefined;
  /** Bytes per volume; omitted = one archive. */
  volumeSize?: number | undefined;
  /** Omitted = everything listed. */
  selectIds?: string[] | undefined;
  onlyNew: boolean;
}

export type JobStatus = 'running' | 'pausing' | 'paused' | 'cancelling' | 'cancelled' | 'done' | 'failed' | 'interrupted';

export interface FileRow {
  id: string;
  name: string;
  state: FileState;
  size: number | null;
  bytesDone: number;
  attempt: number | null;
  /** When the next try starts (epoch ms, the app's clock): the screen counts down to it. */
  retryAt: number | null;
  /** Retrying because the server cannot be reached (it is waited for, for minutes). */
  waitingForServer?: boolean | undefined;
  /** The engine's message (English, for the log and the details)… */
  reason: string | null;
  /** …its kind, which the screens word in the user's language, and the server's HTTP status. */
  reasonCode: ErrorCode | null;
  httpStatus: number | null;
}

/** The engine's progress event, as the UI shows it. */
export type JobProgress = Omit<Extract<JobEvent, { type: 'progress' }>, 'type' | 'networkBytes'>;

export interface BundleProgress {
  state: 'writing' | 'verifying' | 'done';
  path: string | null;
  bytesDone: number | null;
  bytesTotal: number | null;
}

/** A job as the Jobs screen lists it. */
export interface JobRecord {
  id: string;
  source: string;
  /** What the source turned out to be once listed (a URL list file is local, its files are not); absent before. */
  kind?: SourceKind | undefined;
  outDir: string;
  mode: BundleMode;
  zipName: string | null;
  status: JobStatus;
  createdAt: string;
  updatedAt: string;
  filesTotal: number;
  bytesTotal: number;
  /** Files verified so far (an interrupted job: read back from its journal at launch). */
  filesDone: number;
  /** Their bytes, as the progress last showed them (kept so a stopped job reads the same after a restart). */
  bytesDone: number;
  failedCount: number;
  /** The job's archives. */
  outputs: OutputFile[];
  /** Files saved loose in outDir (folder and both modes): counted, not listed, as a batch can hold 100 000. */
  looseFiles: number;
  /** Cancelled: false when nothing was deleted (the folder's unfinished job is another source's, or another run holds it). */
  discarded?: boolean | undefined;
  error: ContractError | null;
}

/** A listing under way: results read so far, and how many the server says it has (null: it does not say). */
export interface ListingCount {
  found: number;
  total: number | null;
}

/** Everything the Progress and Done screens show; events carry changes to it. */
export interface JobSnapshot {
  job: JobRecord;
  progress: JobProgress;
  /** The job is listing its source (before any download): how far it has got. */
  listing: ListingCount | null;
  bundle: BundleProgress | null;
  files: FileRow[];
  warnings: string[];
  summary: JobSummary | null;
}

// ---------- commands ----------

/** Every command: its argument object and its result value. */
export interface Commands {
  getAppInfo: { args: Record<string, never>; result: AppInfo };
  getSettings: { args: Record<string, never>; result: Settings };
  setLocale: { args: { locale: Locale | null }; result: Settings };
  forgetServer: { args: { url: string }; result: Settings };
  /**
   * Lists every result of a server or folder (all pages), reporting `listing` events as it
   * goes. A second connect replaces the one in progress, which fails with CANCELLED.
   */
  connect: { args: { url: string; token?: string | undefined; rememberToken?: boolean | undefined }; result: Connection };
  /** Stops the connect in progress (it fails with CANCELLED); nothing when there is none. */
  cancelConnect: { args: Record<string, never>; result: null };
  /** Validates a typed folder path (absolute, writable) and reports free space and, given a plan, the space it needs. */
  checkFolder: { args: { path: string; plan?: FolderPlan | undefined }; result: FolderCheck };
  /** Native folder dialog; UNSUPPORTED in the browser host. null = cancelled. */
  chooseFolder: { args: { defaultPath?: string | undefined }; result: string | null };
  startJob: { args: StartJobArgs; result: JobSnapshot };
  pauseJob: { args: { jobId: string }; result: JobRecord };
  resumeJob: { args: { jobId: string }; result: JobSnapshot };
  cancelJob: { args: { jobId: string }; result: JobRecord };
  /**
   * Runs a finished job again: its failed files get another try. With `bundleWithout`, files
   * that still fail are left out and the archive is made of what arrived (listed as failed in
   * its manifest), like the CLI's --allow-partial.
   */
  retryFailed: { args: { jobId: string; bundleWithout?: boolean | undefined }; result: JobSnapshot };
  listJobs: { args: Record<string, never>; result: JobRecord[] };
  getJob: { args: { jobId: string }; result: JobSnapshot };
  /**
   * Removes a job from the list. An unfinished one (paused, interrupted, failed) is cancelled
   * first: its partial downloads are deleted, as nothing could resume them afterwards.
   */
  forgetJob: { args: { jobId: string }; result: JobRecord[] };
  /** Opens a job's destination folder (only job folders: never an arbitrary path). */
  openJobFolder: { args: { jobId: string }; result: null };
  /** Reveals one of a job's outputs in the file manager. */
  showOutput: { args: { jobId: string; path: string }; result: null };
}
export type CommandName = keyof Commands;
export type CommandArgs<K extends CommandName> = Commands[K]['args'];
export type CommandResult<K extends CommandName> = Commands[K]['result'];

// ---------- events (main → UI) ----------

export interface Events {
  /**
   * A job changed: its record, progress, and only the files that changed since the last event.
   * `warnings` are the job's warnings from index `warningsFrom` on: keep the first
   * `warningsFrom` you have and append these (0 with none: the job started over).
   */
  job: { job: JobRecord; progress: JobProgress; listing: ListingCount | null; bundle: BundleProgress | null; files: FileRow[]; warnings: string[]; warningsFrom: number; summary: JobSummary | null };
  settings: Settings;
  /** A connect in progress: how far its listing has got. */
  listing: ListingCount;
}
export type EventName = keyof Events;
export type EventListener = <K extends EventName>(name: K, payload: Events[K]) => void;

// ---------- the runtime lists (the only place channel names exist) ----------

// `satisfies` + the exhaustiveness types below make a missing or extra name a compile error.
export const commandNames = [
  'getAppInfo',
  'getSettings',
  'setLocale',
  'forgetServer',
  'connect',
  'cancelConnect',
  'checkFolder',
  'chooseFolder',
  'startJob',
  'pauseJob',
  'resumeJob',
  'cancelJob',
  'retryFailed',
  'listJobs',
  'getJob',
  'forgetJob',
  'openJobFolder',
  'showOutput',
] as const satisfies readonly CommandName[];
export const eventNames = ['job', 'settings', 'listing'] as const satisfies readonly EventName[];

type Missing<All, Listed> = Exclude<All, Listed>;
// If a command is declared but not listed, this type becomes the missing name and the assignment fails.
const commandListComplete: Missing<CommandName, (typeof commandNames)[number]> extends never ? true : false = true;
const eventListComplete: Missing<EventName, (typeof eventNames)[number]> extends never ? true : false = true;
void commandListComplete;
void eventListComplete;

export const channelPrefix = 'reelpack:';
export function commandChannel(name: CommandName): string {
  return `${channelPrefix}cmd:${name}`;
}
export function eventChannel(name: EventName): string {
  return `${channelPrefix}evt:${name}`;
}
export const commandChannels: readonly string[] = commandNames.map(commandChannel);

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && (commandNames as readonly string[]).includes(name);
}
export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && (eventNames as readonly string[]).includes(name);
}

// ---------- the derived shapes ----------

/** What the app implements (app-service): plain async functions that may throw. */
export type ContractHandlers = { [K in CommandName]: (args: CommandArgs<K>) => Promise<CommandResult<K>> };

/** What the UI calls (preload in Electron, WebSocket client in a browser): never throws. */
export type ContractClient = { [K in CommandName]: (args: CommandArgs<K>) => Promise<Reply<CommandResult<K>>> } & {
  /** Subscribes to one event; returns the unsubscribe function. */
  on<K extends EventName>(name: K, listener: (payload: Events[K]) => void): () => void;
};

/** Turns anything thrown by a handler into the data that crosses the boundary. */
export function toContractError(error: unknown): ContractError {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (e && typeof e === 'object' && typeof e.code === 'string' && /^[A-Z_]+$/.test(e.code) && typeof e.message === 'string') {
    return { code: e.code as ContractErrorCode, message: e.message };
  }
  if (e && typeof e === 'object' && (e as { name?: unknown }).name === 'AbortError') return { code: 'CANCELLED', message: 'cancelled' };
  return { code: 'INTERNAL', message: e && typeof e === 'object' && typeof e.message === 'string' ? e.message : String(error) };
}

export class ContractFailure extends Error {
  readonly code: ContractErrorCode;
  constructor(code: ContractErrorCode, message: string) {
    super(message);
    this.name = 'ContractFailure';
    this.code = code;
  }
}

/** Runs one command by name with untrusted input; always resolves to a Reply. */
export async function dispatchCommand(handlers: ContractHandlers, name: unknown, args: unknown): Promise<Reply<unknown>> {
  if (!isCommandName(name)) return { ok: false, error: { code: 'UNKNOWN_COMMAND', message: `unknown command: ${String(name).slice(0, 80)}` } };
  if (args === undefined) args = {};
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    return { ok: false, error: { code: 'BAD_ARGUMENT', message: `arguments of ${name} must be an object` } };
  }
  try {
    const handler = handlers[name] as (a: unknown) => Promise<unknown>;
    return { ok: true, value: await handler.call(handlers, args) };
  } catch (error) {
    return { ok: false, error: toContractError(error) };
  }
}

/**
 * Registers one handler per contract channel through `register` (ipcMain.handle in Electron)
 * and checks the result: every channel exactly once, nothing else. Throws naming what is
 * missing or extra, so a wiring mistake fails at startup and in tests.
 */
export function registerContract(
  handlers: ContractHandlers,
  register: (channel: string, run: (args: unknown) => Promise<Reply<unknown>>) => void,
): string[] {
  const registered: string[] = [];
  for (const name of commandNames) {
    const channel = commandChannel(name);
    register(channel, (args) => dispatchCommand(handlers, name, args));
    registered.push(channel);
  }
  assertChannels(registered, commandChannels, 'registered');
  return registered;
}

/** Throws unless `actual` holds exactly the `expected` channels, each once. */
export function assertChannels(actual: readonly string[], expected: readonly string[], what: string): void {
  const missing = expected.filter((c) => !actual.includes(c));
  const extra = actual.filter((c) => !expected.includes(c));
  const duplicate = actual.filter((c, i) => actual.indexOf(c) !== i);
  if (missing.length || extra.length || duplicate.length) {
    const parts = [
      missing.length ? `missing ${missing.join(', ')}` : '',
      extra.length ? `extra ${extra.join(', ')}` : '',
      duplicate.length ? `duplicate ${duplicate.join(', ')}` : '',
    ].filter(Boolean);
    throw new Error(`contract channels ${what} do not match the contract: ${parts.join('; ')}`);
  }
}

/** Checks that an implementation object has exactly the contract's commands (runtime guard for JS callers). */
export function assertHandlers(handlers: object): void {
  const names = Object.keys(handlers).filter((k) => typeof (handlers as Record<string, unknown>)[k] === 'function');
  const own = new Set(names);
  // Methods on a class instance live on the prototype.
  for (let proto = Object.getPrototypeOf(handlers); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const k of Object.getOwnPropertyNames(proto)) if (k !== 'constructor' && typeof (handlers as Record<string, unknown>)[k] === 'function') own.add(k);
  }
  const missing = commandNames.filter((n) => !own.has(n));
  if (missing.length) throw new Error(`contract handlers do not match the contract: missing ${missing.join(', ')}`);
}

/**
 * Builds the UI-side client from a transport (ipcRenderer.invoke in the preload). Used by the
 * preload; the browser's WebSocket client builds the same shape.
 */
export function createContractClient(
  invoke: (channel: string, args: unknown) => Promise<unknown>,
  subscribe: (channel: string, listener: (payload: unknown) => void) => () => void,
): ContractClient {
  const client: Record<string, unknown> = {};
  for (const name of commandNames) {
    const channel = commandChannel(name);
    client[name] = async (args: unknown) => {
      try {
        return (await invoke(channel, args ?? {})) as Reply<unknown>;
      } catch (error) {
        return { ok: false, error: toContractError(error) };
      }
    };
  }
  client.on = (name: unknown, listener: (payload: unknown) => void) => {
    if (!isEventName(name)) throw new Error(`unknown event: ${String(name)}`);
    return subscribe(eventChannel(name), listener);
  };
  return client as ContractClient;
}

// Engine types the UI shows as they are (the renderer may import types only from this file).
export type { FileState, JobEvent, JobSummary, OutputFile, SourceKind };
