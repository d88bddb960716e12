// Events a running job emits. The CLI prints them (NDJSON with --json), the app shows them.
import type { ErrorCode, ErrorData } from '../errors.ts';
import type { SourceKind } from '../sources/source-types.ts';

/** A file's state: verified means downloaded, checked and saved (staged for the archive in zip mode); zipped means in an archive. */
/** `saving`: every byte arrived and matched; the file is being flushed and recorded (then `verified`, which a crash never loses). */
export type FileState = 'queued' | 'downloading' | 'retrying' | 'saving' | 'verified' | 'zipped' | 'failed';

export interface OutputFile {
  path: string;
  size: number;
  sha256: string;
}

export interface FailedFile {
  name: string;
  reason: string;
  /** The result's id and address (as the manifest's files have them), to fetch it another way. */
  id?: string | undefined;
  sourceUrl?: string | undefined;
  /** What kind of failure (the app words it in the user's language) and the server's status. */
  code?: ErrorCode | undefined;
  httpStatus?: number | undefined;
}

export interface JobSummary {
  type: 'summary';
  ok: boolean;
  /** Files complete and verified in this job (including ones finished by an earlier run of it). */
  files: number;
  bytes: number;
  /** Bytes received from the network by this run. */
  networkBytes: number;
  failed: FailedFile[];
  outputs: OutputFile[];
  /** Set when the job stopped as a whole (cancelled, disk full…) rather than finishing. */
  error?: ErrorData;
}

export type JobEvent =
  /** Listing started; then again after each page or folder read, with the results read so far (and the server's total). */
  | { type: 'listing'; source: string; found?: number | undefined; total?: number | undefined }
  | {
      type: 'listed';
      source: string;
      kind: SourceKind;
      files: number;
      /** Sum of the sizes the listing gave. */
      bytes: number;
      /** Files listed without a size (URL lists, some indexes): learned as downloads start. */
      unsizedFiles: number;
      /** (Results the listing skipped are reported as warnings, one each.) */
      resumed: boolean;
    }
  | {
      type: 'file';
      id: string;
      name: string;
      state: FileState;
      size?: number | undefined;
      bytesDone?: number | undefined;
      attempt?: number | undefined;
      retryInMs?: number | undefined;
      /** Retrying because the server cannot be reached: it is waited for (serverDownPatienceMs), not counted. */
      waitingForServer?: boolean | undefined;
      reason?: string | undefined;
      /** With a reason: its kind, and the server's HTTP status if it answered with one. */
      code?: ErrorCode | undefined;
      httpStatus?: number | undefined;
    }
  | {
      type: 'progress';
      bytesDone: number;
      /** Sizes known so far; complete only when `sizesKnown`. */
      bytesTotal: number;
      /** False while some file's size is still unknown: show files done, not a byte ratio. */
      sizesKnown: boolean;
      filesDone: number;
      filesTotal: number;
      /** Bytes per second, smoothed. */
      speed: number;
      /** Seconds left, or null when unknown (no speed yet, or sizes still unknown). */
      etaSeconds: number | null;
      networkBytes: number;
    }
  | { type: 'bundle'; state: 'writing' | 'verifying' | 'done'; path?: string; bytesDone?: number; bytesTotal?: number; entries?: number }
  | { type: 'output'; path: string; size: number; sha256: string }
  | { type: 'warning'; message: string }
  | JobSummary;
