// The download retry policy, as one pure function: attempt and error in, delay out.
// Testable without a socket (see test/core/download/retry-policy.test.ts).
import type { ErrorCode } from '../errors.ts';

export interface RetryInput {
  /** 1 for the first retry after the first failure. */
  attempt: number;
  /** Retries allowed (`--retries`). */
  maxRetries: number;
  code: ErrorCode;
  statusCode?: number | undefined;
  /** Server's Retry-After, already converted to milliseconds. */
  retryAfterMs?: number | undefined;
  /** 0 ≤ random < 1; injectable so tests are exact. */
  random?: number;
}

export const retryBaseMs = 500;
/**
 * How long a file waits for a server that cannot be reached at all (refused, unreachable, or a
 * proxy's 502/503/504) before those failures count against --retries: a GPU server restart
 * takes minutes, and failing the whole batch in 15 s would leave the user to press Retry.
 */
export const serverDownPatienceMs = 10 * 60_000;
export const retryCapMs = 30_000;
/** A Retry-After longer than this fails the file for this run (the job runner's reason says so) rather than being obeyed. */
export const retryAfterCapMs = 10 * 60_000;

const retryableCodes = new Set<ErrorCode>(['NETWORK', 'STALLED', 'BAD_RESPONSE', 'SIZE_MISMATCH', 'STILL_WRITING']);
// CHECKSUM_MISMATCH is not here: the job runner re-downloads such a file exactly once.
// Statuses worth another try; everything else (401, 403, 404, 410, other 4xx) is permanent.
const retryableStatuses = new Set([408, 425, 429, 500, 502, 503, 504]);
// What a proxy answers for a server behind it that is down or restarting.
const serverDownStatuses = new Set([502, 503, 504]);

/**
 * Whether a failure means the server cannot be reached at all (refused, unreachable, closed
 * without answering, or a proxy's 502/503/504 without Retry-After): such a server is waited for,
 * with serverDownDelay, for serverDownPatienceMs before its failures count against --retries.
 */
export function isServerDown(input: Pick<RetryInput, 'code' | 'statusCode' | 'retryAfterMs'> & { serverUnreachable?: boolean }): boolean {
  if (input.serverUnreachable) return true;
  return input.code === 'HTTP_STATUS' && input.retryAfterMs === undefined && serverDownStatuses.has(input.statusCode ?? 0);
}

/** The delay before the next try at a server that is down: the same backoff, capped at retryCapMs. */
export function serverDownDelay(attempt: number, random = Math.random()): number {
  return backoffMs(attempt, random);
}

// Exponential backoff with "equal jitter": half fixed, half random, so retries of many files
// spread out yet never come back immediately.
function backoffMs(attempt: number, random: number): number {
  const exp = Math.min(retryCapMs, retryBaseMs * 2 ** (attempt - 1));
  return Math.max(1, Math.round(exp / 2 + (exp / 2) * random));
}

/** Milliseconds to wait before the next attempt; 0 means do not retry. */
export function retryDelay(input: RetryInput): number {
  if (input.attempt > input.maxRetries) return 0;
  const retryable = input.code === 'HTTP_STATUS'
    ? input.statusCode !== undefined && retryableStatuses.has(input.statusCode)
    : retryableCodes.has(input.code);
  if (!retryable) return 0;
  if (input.retryAfterMs !== undefined && input.retryAfterMs >= 0) {
    if (input.retryAfterMs > retryAfterCapMs) return 0;
    return Math.max(1, input.retryAfterMs);
  }
  return backoffMs(input.attempt, input.random ?? Math.random());
}

/** Parses Retry-After (delta-seconds or HTTP-date) into milliseconds; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
