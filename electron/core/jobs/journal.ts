// The job journal: what makes every job crash-safe. An append-only NDJSON file in
// <out>/.reelpack/; each line is one fact (job header, the frozen selection, a file's
// validator, a file done or failed). kill -9 can tear only the last line, which is ignored.
// On reopen the journal is compacted: rewritten to a temp file, fsynced, renamed.
import { open, readFile, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ReelpackError } from '../errors.ts';
import { replaceFileDurably } from '../fs-sync.ts';
import type { ResultItem, SourceKind } from '../sources/source-types.ts';
import type { Validator } from '../download/file-download.ts';
import type { SegmentPlan } from '../download/segmented-download.ts';

/** The journal's format; a journal of another version is refused, not misread. */
export const journalVersion = 1;

export interface JobHeader {
  t: 'job';
  v: typeof journalVersion;
  source: string;
  kind: SourceKind;
  mode: 'zip' | 'folder' | 'both';
  zipName?: string | undefined;
  volumeSize?: number | undefined;
  allowPartial: boolean;
  createdAt: string;
}

/** A selected result with the safe path it was given; `i` is its index in the selection. */
export interface JobItem extends ResultItem {
  i: number;
  safePath: string;
}

export interface DoneFact {
  t: 'done';
  i: number;
  size: number;
  sha256: string;
  etag?: string | undefined;
  lastModified?: string | undefined;
  /** Where the loose file landed (folder/both modes), relative to the destination. */
  finalPath?: string | undefined;
}

type Fact =
  | JobHeader
  | { t: 'items'; items: JobItem[] }
  | ({ t: 'validator'; i: number } & Validator)
  | { t: 'size'; i: number; size: number }
  /** A segmented download's ranges; null when the file fell back to one stream. */
  | { t: 'segments'; i: number; plan: SegmentPlan | null }
  | DoneFact
  /** A file done earlier whose bytes are gone before its archive was built: it is downloaded again. */
  | { t: 'redo'; i: number }
  | { t: 'failed'; i: number; reason: string };

export interface JobState {
  header: JobHeader;
  items: JobItem[];
  validators: Map<number, Validator>;
  segments: Map<number, SegmentPlan>;
  done: Map<number, DoneFact>;
  failed: Map<number, string>;
}

export function journalPath(stateDir: string): string {
  return join(stateDir, 'journal.ndjson');
}

/** Reads a journal; null when there is none. A torn or garbled line ends the reading. */
export async function readJournal(stateDir: string): Promise<JobState | null> {
  let text: string;
  try {
    text = await readFile(journalPath(stateDir), 'utf8');
  } catch {
    return null;
  }
  let state: JobState | null = null;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let fact: Fact;
    try {
      fact = JSON.parse(line) as Fact;
    } catch {
      break; // torn tail from a crash
    }
    if (fact.t === 'job') {
      if (fact.v !== journalVersion) {
        throw new ReelpackError('JOB_MISMATCH', `${stateDir} holds an unfinished job written by another version of Reelpack (journal version ${String(fact.v)}, this one reads ${journalVersion}): finish it with that version, or choose another folder`);
      }
      state = { header: fact, items: [], validators: new Map(), segments: new Map(), done: new Map(), failed: new Map() };
      continue;
    }
    if (!state) return null;
    switch (fact.t) {
      case 'items':
        state.items = fact.items;
        break;
      case 'validator': {
        const { t: _t, i, ...validator } = fact;
        state.validators.set(i, validator);
        break;
      }
      case 'size': {
        const item = state.items[fact.i];
        if (item) item.size = fact.size;
        break;
      }
      case 'segments':
        if (fact.plan) state.segments.set(fact.i, fact.plan);
        else state.segments.delete(fact.i);
        break;
      case 'done':
        state.done.set(fact.i, fact);
        state.failed.delete(fact.i);
        break;
      case 'redo':
        state.done.delete(fact.i);
        break;
      case 'failed':
        state.failed.set(fact.i, fact.reason);
        break;
    }
  }
  return state && state.items.length > 0 ? state : null;
}

export class Journal {
  private readonly file: FileHandle;
  private chain: Promise<void> = Promise.resolve();
  private syncing: Promise<void> = Promise.resolve();
  private nextSync: Promise<void> | null = null;

  private constructor(file: FileHandle) {
    this.file = file;
  }

  /** Writes a fresh compacted journal for `state` atomically, then opens it for appending. */
  static async create(stateDir: string, state: Pick<JobState, 'header' | 'items'> & Partial<JobState>): Promise<Journal> {
    const lines: Fact[] = [state.header, { t: 'items', items: state.items }];
    for (const [i, v] of state.validators ?? []) if (!state.done?.has(i)) lines.push({ t: 'validator', i, ...v });
    for (const [i, plan] of state.segments ?? []) if (!state.done?.has(i)) lines.push({ t: 'segments', i, plan });
    for (const fact of state.done?.values() ?? []) lines.push(fact);
    for (const [i, reason] of state.failed ?? []) lines.push({ t: 'failed', i, reason });
    const path = journalPath(stateDir);
    await replaceFileDurably(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    return new Journal(await open(path, 'a'));
  }

  /** Appends a fact; `durable` waits for fsync (used for "done", which gates deleting data). */
  append(fact: Fact, durable = false): Promise<void> {
    const line = JSON.stringify(fact) + '\n';
    const written = (this.chain = this.chain.then(async () => {
      await this.file.write(line);
    }));
    return durable ? written.then(() => this.sync()) : written;
  }

  /**
   * Group commit: a sync that starts after a line was written covers it, so every caller
   * that arrives while one fdatasync runs shares the next one instead of queueing its own.
   */
  private sync(): Promise<void> {
    this.nextSync ??= this.syncing.then(() => {
      this.nextSync = null;
      this.syncing = this.file.datasync();
      return this.syncing;
    });
    return this.nextSync;
  }

  async close(): Promise<void> {
    await this.chain.catch(() => {});
    await this.nextSync?.catch(() => {});
    await this.syncing.catch(() => {});
    await this.file.close();
  }
}


export async function removeJobState(stateDir: string): Promise<void> {
  // Retries EBUSY, EPERM and ENOTEMPTY (a file held open for a moment on Windows).
  await rm(stateDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}
