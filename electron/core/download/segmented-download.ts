// Segmented download of one large file: N ranges fetched over N connections into one
// preallocated .part file, like aria2c -x. Each range resumes on its own; their positions
// are checkpointed to the journal every second (only bytes already written count), so
// kill -9 loses at most a second of each range. The file is hashed in order while it
// downloads (FileHashFollower): each range's bytes are read back from the page cache once
// everything before them is written, so at the end only the last stretch is left to hash.
import { setTimeout as sleep } from 'node:timers/promises';
import { constants } from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { ReelpackError, toReelpackError } from '../errors.ts';
import { discard, statusError } from './http-client.ts';
import { BufferedFileWriter } from './file-writer.ts';
import { isStrongEtag, parseDigestSha256, pumpBody } from './file-download.ts';
import { FileHashFollower } from '../sha256-thread.ts';
import type { DownloadContext, DownloadResult, DownloadTarget, Validator } from './file-download.ts';
import { retryDelay } from './retry-policy.ts';

/** Files at least this large are split when --segments > 1. */
export const segmentThresholdBytes = 64 * 1024 * 1024;
const checkpointMs = 1000;
const progressResetBytes = 1024 * 1024;

export interface SegmentRange {
  start: number;
  /** Inclusive. */
  end: number;
  /** Next byte to fetch; the range is done when pos > end. */
  pos: number;
}

export interface SegmentPlan {
  validator: Validator;
  ranges: SegmentRange[];
}

/** The server does not serve ranges (or the file changed): download it in one stream instead. */
export class SegmentsUnsupportedError extends ReelpackError {
  constructor(url: string, why: string) {
    super('BAD_RESPONSE', `segmented download not possible (${why}): ${url}`);
  }
}

export function planSegments(size: number, count: number): SegmentRange[] {
  const n = Math.max(1, Math.min(count, Math.floor(size / (1024 * 1024)) || 1));
  const step = Math.ceil(size / n);
  const ranges: SegmentRange[] = [];
  for (let start = 0; start < size; start += step) ranges.push({ start, end: Math.min(size, start + step) - 1, pos: start });
  return ranges;
}

export interface SegmentedContext extends DownloadContext {
  segments: number;
  retries: number;
  /** The plan saved by an earlier run, if any. */
  saved?: SegmentPlan | undefined;
  /** Persists the plan (validator and range positions). */
  onPlan: (plan: SegmentPlan) => Promise<void>;
}

export async function downloadSegmented(target: DownloadTarget, ctx: SegmentedContext): Promise<DownloadResult> {
  const size = target.expectedSize;
  if (size === undefined) throw new SegmentsUnsupportedError(target.url, 'size unknown');
  const existing = await stat(target.partPath).then((s) => s.size, () => -1);
  const resumable = ctx.saved && existing === size && ctx.saved.ranges.every((r) => r.end < size);
  const plan: SegmentPlan = resumable ? structuredClone(ctx.saved!) : { validator: {}, ranges: planSegments(size, ctx.segments) };
  const file = await open(target.partPath, constants.O_RDWR | constants.O_CREAT);
  let networkBytes = 0;
  const writers = new Map<SegmentRange, BufferedFileWriter>();
  const checkpoint = async () => {
    for (const [range, writer] of writers) range.pos = Math.max(range.pos, writer.writtenUpTo);
    await ctx.onPlan(plan);
  };
  const timer = setInterval(() => void checkpoint().catch(() => {}), checkpointMs);
  let follower: FileHashFollower | null = null;
  let sha256: string;
  try {
    if (!resumable) {
      await file.truncate(0);
      await file.truncate(size); // sparse until written
    }
    const fetchers = plan.ranges.map((range) => fetchRange(target, ctx, file, plan, range, writers, (n) => (networkBytes += n)));
    follower = new FileHashFollower(target.partPath, () => writtenPrefix(plan, writers));
    const results = await Promise.allSettled(fetchers);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    sha256 = await follower.finish(size);
  } catch (error) {
    await follower?.stop();
    await checkpoint().catch(() => {});
    throw error;
  } finally {
    clearInterval(timer);
    await file.close();
  }
  const expected = target.expectedSha256 ?? plan.validator.digestSha256;
  if (expected && expected !== sha256) {
    await unlink(target.partPath).catch(() => {});
    throw new ReelpackError('CHECKSUM_MISMATCH', `SHA-256 mismatch (server says ${expected.slice(0, 12)}…, got ${sha256.slice(0, 12)}…): ${target.url}`);
  }
  return { size, sha256, validator: plan.validator, networkBytes };
}

/** End of the written prefix of the file: every range before it is complete. */
function writtenPrefix(plan: SegmentPlan, writers: Map<SegmentRange, BufferedFileWriter>): number {
  for (const range of plan.ranges) {
    const written = Math.max(range.pos, writers.get(range)?.writtenUpTo ?? 0);
    if (written <= range.end) return written;
  }
  return plan.ranges.at(-1)!.end + 1;
}

function sameValidator(known: Validator, headers: Record<string, string | undefined>): boolean {
  if (known.etag && headers.etag) return known.etag === headers.etag;
  if (known.lastModified && headers['last-modified']) return known.lastModified === headers['last-modified'];
  return !known.etag && !known.lastModified;
}

async function fetchRange(
  target: DownloadTarget, ctx: SegmentedContext, file: FileHandle, plan: SegmentPlan, range: SegmentRange,
  writers: Map<SegmentRange, BufferedFileWriter>, countNetwork: (n: number) => void,
): Promise<void> {
  let failures = 0;
  while (range.pos <= range.end) {
    if (ctx.signal?.aborted) throw new ReelpackError('CANCELLED', 'cancelled');
    const headers: Record<string, string> = { 'accept-encoding': 'identity', range: `bytes=${range.pos}-${range.end}` };
    const ifRange = isStrongEtag(plan.validator.etag) ? plan.validator.etag : plan.validator.lastModified;
    if (ifRange) headers['if-range'] = ifRange;
    let moved = 0;
    try {
      const res = await ctx.http.send(target.url, { headers, signal: ctx.signal });
      if (res.statusCode === 200) {
        discard(res);
        throw new SegmentsUnsupportedError(target.url, plan.validator.etag || plan.validator.lastModified ? 'file changed on the server' : 'server ignores Range');
      }
      if (res.statusCode !== 206) {
        discard(res);
        throw statusError(res);
      }
      const m = res.headers['content-range']?.match(/^bytes (\d+)-(\d+)\/(\d+)$/);
      if (!m || Number(m[1]) !== range.pos || Number(m[2]) !== range.end || Number(m[3]) !== target.expectedSize) {
        discard(res);
        throw new SegmentsUnsupportedError(target.url, `unexpected Content-Range ${res.headers['content-range'] ?? 'none'}`);
      }
      if (!plan.validator.etag && !plan.validator.lastModified) {
        plan.validator = { etag: res.headers.etag, lastModified: res.headers['last-modified'], digestSha256: parseDigestSha256(res.headers) };
      } else if (!sameValidator(plan.validator, res.headers)) {
        discard(res);
        throw new SegmentsUnsupportedError(target.url, 'file changed on the server');
      }
      const writer = new BufferedFileWriter(file, range.pos, ctx.onPlan(plan));
      writers.set(range, writer);
      try {
        await pumpBody(res, writer, {
          url: target.url, expectedLength: range.end - range.pos + 1, limiter: ctx.limiter,
          onChunk: (chunk) => {
            moved += chunk.length;
            countNetwork(chunk.length);
            ctx.onBytes(chunk.length);
          },
        });
      } finally {
        range.pos = Math.max(range.pos, writer.writtenUpTo);
        writers.delete(range);
      }
    } catch (thrown) {
      if (thrown instanceof SegmentsUnsupportedError) throw thrown;
      const error = toReelpackError(thrown);
      failures = moved >= progressResetBytes ? 1 : failures + 1;
      const delay = ctx.signal?.aborted ? 0 : retryDelay({ attempt: failures, maxRetries: ctx.retries, code: error.code, statusCode: error.statusCode, retryAfterMs: error.retryAfterMs });
      if (delay === 0) throw error;
      await sleep(delay, undefined, { signal: ctx.signal }).catch(() => {
        throw new ReelpackError('CANCELLED', 'cancelled');
      });
    }
  }
}
