// The one message protocol between a zip sink (job runner side) and the zip worker process.
// Plain JSON-safe data: it crosses Node IPC (process.send) and Electron's utilityProcess
// (postMessage) alike. One archive is open at a time; archiveId tags replies to it.
import type { ErrorData } from '../core/errors.ts';
import type { TrailerEntry, WriterEntry } from '../core/bundle/zip-writer.ts';

export type ZipWorkerRequest =
  /** Start an archive at `path` (a ".zip.part" file; replaced if it exists). */
  | { type: 'open'; archiveId: number; path: string }
  /** Queue an entry; it is read when its turn comes. */
  | { type: 'add'; archiveId: number; entry: WriterEntry }
  /** Append the trailer, finish, fsync and read back. Answered by `closed` or `error`. */
  | { type: 'close'; archiveId: number; trailer: TrailerEntry[] }
  /** Stop now, delete the partial archive, answer `cancelled`, exit. */
  | { type: 'cancel' }
  /** Exit (no archive open). */
  | { type: 'shutdown' };

/**
 * The worker says `alive` this often. Its event loop turns while a write or an fsync waits on
 * a slow disk (they run on libuv's threads), so silence means the worker itself is stuck.
 */
export const aliveIntervalMs = 1000;

export type ZipWorkerReply =
  | { type: 'ready' }
  | { type: 'alive' }
  /** An entry's source was read in full: its CRC-32 is known. */
  | { type: 'entry'; archiveId: number; name: string; size: number; crc32: number }
  /** At most every 100 ms while writing. bytesIn counts source bytes, bytesOut archive bytes. */
  | { type: 'progress'; archiveId: number; bytesIn: number; bytesOut: number; entries: number }
  | { type: 'verifying'; archiveId: number }
  | { type: 'closed'; archiveId: number; size: number; sha256: string }
  /** The archive failed and its partial file is deleted. */
  | { type: 'error'; archiveId: number | null; error: ErrorData }
  | { type: 'cancelled' };

export interface ZipWorkerExit {
  code: number | null;
  signal: string | null;
}

/** A running worker process, however it was started (child_process.fork, utilityProcess.fork). */
export interface ZipWorkerHandle {
  readonly pid: number | undefined;
  send(message: ZipWorkerRequest): void;
  onMessage(listener: (message: ZipWorkerReply) => void): void;
  onExit(listener: (exit: ZipWorkerExit) => void): void;
  /** Ends the process at once (SIGKILL where there are signals). */
  kill(): void;
}
