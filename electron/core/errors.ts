// Every failure the engine reports is a ReelpackError with a stable `code`.
// Branch on `code`, never on `instanceof` (errors also cross process and IPC boundaries as data).

export type ErrorCode =
  | 'USAGE' // bad flags or arguments
  | 'SOURCE_UNUSABLE' // the source cannot be listed at all (unreachable, not a listing)
  | 'ACCESS_DENIED' // the server refused to list (401/403): no access token, or a wrong one
  | 'BAD_LISTING' // the listing was read but is malformed
  | 'EMPTY_LISTING' // the listing holds nothing to download
  | 'NOTHING_NEW' // --only-new and every result was fetched before (not a failure)
  | 'HTTP_STATUS' // the server answered with an error status
  | 'NETWORK' // connection refused/reset/dropped mid-body
  | 'STALLED' // no bytes for --stall-timeout
  | 'BAD_REDIRECT' // redirect loop, too many, or to a non-http(s) scheme
  | 'BAD_RESPONSE' // the server broke the protocol (wrong Content-Range, too many bytes…)
  | 'SIZE_MISMATCH' // the bytes received do not match the announced size
  | 'CHECKSUM_MISMATCH' // SHA-256 differs from the server's
  | 'STILL_WRITING' // the file's size changed since listing: it is still being written
  | 'DISK_FULL'
  | 'WRITE_FAILED' // the destination refused a file's bytes (read-only, I/O error, too large for its file system)
  | 'LOCKED' // another reelpack run holds this destination
  | 'JOB_MISMATCH' // the destination holds an unfinished job for another source
  | 'CANCELLED'
  | 'ZIP_FAILED'
  | 'VERIFY_FAILED'
  | 'INTERNAL';

export interface ErrorData {
  code: ErrorCode;
  message: string;
}

export class ReelpackError extends Error {
  readonly code: ErrorCode;
  /** Milliseconds the server asked us to wait (Retry-After), if any. */
  readonly retryAfterMs: number | undefined;
  readonly statusCode: number | undefined;
  /** The server could not be reached at all (refused, unreachable, no answer to connect): it may be down for a while. */
  readonly serverUnreachable: boolean;

  constructor(code: ErrorCode, message: string, extra: { retryAfterMs?: number; statusCode?: number; cause?: unknown; serverUnreachable?: boolean } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'ReelpackError';
    this.code = code;
    this.retryAfterMs = extra.retryAfterMs;
    this.statusCode = extra.statusCode;
    this.serverUnreachable = extra.serverUnreachable ?? false;
  }

  toData(): ErrorData {
    return { code: this.code, message: this.message };
  }
}

const diskFullCodes = new Set(['ENOSPC', 'EDQUOT']);

/**
 * What a failure to open, write or size a file in the destination means for the job: a full
 * disk (DISK_FULL) and a destination that refuses writes (WRITE_FAILED: read-only, an I/O error,
 * a file too large for its file system) stop the job, as every file would fail the same way;
 * running out of file descriptors is passing, and retried like a network error. Never INTERNAL:
 * the download layer would take that for a network error and retry it for ever.
 */
export function writeError(error: unknown, path: string): ReelpackError {
  if (error instanceof ReelpackError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && diskFullCodes.has(code)) return new ReelpackError('DISK_FULL', `disk full: ${path}`, { cause: error });
  if (code === 'EMFILE' || code === 'ENFILE') return new ReelpackError('NETWORK', `too many open files (${code}), will retry: ${path}`, { cause: error });
  if (code === 'EFBIG') {
    return new ReelpackError('WRITE_FAILED', `a file is larger than the destination's file system allows (FAT32 holds at most 4 GiB a file): ${path}; choose a folder on another drive`, { cause: error });
  }
  return new ReelpackError('WRITE_FAILED', `cannot write ${path}: ${code ?? (error as Error | undefined)?.message ?? String(error)}`, { cause: error });
}

/** System error codes meaning the server cannot be reached at all: down, restarting, or the network is. */
export const unreachableCodes: ReadonlySet<string> = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/** A NETWORK error for a failure to connect: unreachable ones are marked (see serverUnreachable). */
export function connectError(code: string | undefined, url: string, cause?: unknown): ReelpackError {
  if (code && unreachableCodes.has(code)) return new ReelpackError('NETWORK', `cannot reach the server (${code}): ${url}`, { cause, serverUnreachable: true });
  return new ReelpackError('NETWORK', `network error (${code ?? 'unknown'}): ${url}`, { cause });
}

/** Turns anything thrown into a ReelpackError, keeping known codes and naming system errors plainly. */
export function toReelpackError(error: unknown): ReelpackError {
  if (error instanceof ReelpackError) return error;
  const err = error as NodeJS.ErrnoException | undefined;
  if (err && typeof err === 'object') {
    if (err.code && diskFullCodes.has(err.code)) {
      return new ReelpackError('DISK_FULL', `disk full: ${err.path ?? 'no space left on device'}`, { cause: error });
    }
    if (err.name === 'AbortError' || err.code === 'ABORT_ERR') {
      return new ReelpackError('CANCELLED', 'cancelled', { cause: error });
    }
    if (typeof err.message === 'string') {
      return new ReelpackError('INTERNAL', err.code ? `${err.message} (${err.code})` : err.message, { cause: error });
    }
  }
  return new ReelpackError('INTERNAL', String(error));
}
