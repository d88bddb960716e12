// Where verified files go: loose into the destination folder, into ZIP archives, or both.
// The job runner feeds a sink; it never writes outputs itself.
import type { FailedFile, JobEvent, OutputFile } from './job-events.ts';

export interface VerifiedFile {
  /** Result id on the server (see ResultItem.id). */
  id: string;
  /** Safe relative path ("sub/clip.mp4") from safe-path.ts: the entry name and the folder path. */
  safePath: string;
  /** Where the bytes are now: a staged file, or the file itself for a local folder source. */
  path: string;
  size: number;
  sha256: string;
  /** Where it came from (URL or local path), for the manifest. */
  sourceUrl: string;
  etag?: string | undefined;
  lastModified?: string | undefined;
  createdAt?: string | undefined;
  params?: unknown;
  /** Modification time for the archive entry / loose file. */
  mtimeMs: number;
}

export interface SinkContext {
  /** Destination folder given with --out. */
  outDir: string;
  /** <out>/.reelpack: the sink may keep its own crash-safe state here. */
  stateDir: string;
  /** The source as listed, for the manifest. */
  source: { url: string; kind: string };
  emit: (event: JobEvent) => void;
  signal: AbortSignal;
}

export interface OutputSink {
  /**
   * Gets ready before the first file: state, free-space check, the zip worker's start-up (which
   * then overlaps the first downloads). Rejects with the reason the job cannot produce its output.
   */
  prepare(): Promise<void>;
  /**
   * Takes a verified file. May resolve before the bytes are consumed (zipping overlaps
   * downloading); `file.path` must then stay readable until `finish` resolves.
   * Called again for the same file when a job resumes: a sink skips what it already holds.
   */
  add(file: VerifiedFile): Promise<void>;
  /** Whether a finished output already holds this file (these bytes): add() will not read it again. */
  holds?(id: string, sha256: string): boolean;
  /** All files added: complete the outputs and report them. */
  finish(result: { failed: FailedFile[] }): Promise<OutputFile[]>;
  /** Stop now (cancel or fatal error), keeping whatever lets a later run resume. */
  abort(): Promise<void>;
  /** A file the listing gave no size for turned out to have `bytes`: count it in progress totals. */
  expectMore(bytes: number): void;
  /**
   * Resolves when the next download may start: a sink that deletes what it consumed can ask
   * downloads to wait rather than fill the disk ahead of it (the zip sink with a staging limit).
   */
  room?(): Promise<void>;
}
