// Segmented download of one large file: up to N ranges fetched over N connections into one
// preallocated .part file, like aria2c -x. It starts with one connection for the whole file
// and splits the rest only if that connection is slow (`maybeSplit`): on a fast server four
// connections cost CPU and memory for nothing (measured: 256 MiB over loopback took 0.51–0.56 s
// on one connection, 0.58–0.69 s on four; see fastConnectionBytesPerSec). Each range resumes on
// its own; their positions are checkpointed to the journal every second (only bytes already written count), so
// kill -9 loses at most a second of each range. The file is hashed in order while it
// downloads (FileHashFollower): the range at the hashed front offers its blocks straight from
// memory (on one connection, all of them); other ranges' bytes are read back from the page
// cache once everything before them is written, so at the end little is left to hash.
import { setTimeout as sleep } from 'node:timers/promises';
import { constants } from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { ReelpackError, writeError } from '../errors.ts';
import { httpError, statusError } from './http-client.ts';
import { BufferedFileWriter } from './file-writer.ts';
import { isStrongEtag, parseDigestSha256, pumpBody, refuseEncodedBody, sameValidator } from './file-download.ts';
import { FileHashFollower } from '../sha256-thread.ts';
import { SyncBehind } from '../fs-sync.ts';
import type { DownloadContext, DownloadResult, DownloadTarget, Validator } from './file-download.ts';
import { retryDelay } from './retry-policy.ts';

/** Files at least this large are split when --segments > 1. */
export const segmentThresholdBytes = 64 * 1024 * 1024;
/** How long one connection runs before its speed decides whether to split. */
export const splitProbeMs = 250;
/** Split only when what is left would take longer than this at the speed so far. */
const splitWorthSeconds = 2;
/**
 * A file's first connection is not split while it moves this much (1 Gbit/s): that fills the
 * links most users have, and more connections then only compete for the CPU and the disk. Over
 * loopback one connection ran at ~400 MiB/s and 1 GiB took 2.34–2.40 s on one connection,
 * 2.63–2.80 s split into four (alternated, 3 runs each). Once split (a slow server), the
 * ranges that finish early go on taking over work: the average speed cannot tell one
 * connection's speed apart once some have finished.
 */
export const fastConnectionBytesPerSec = 125_000_000;
const minRangeBytes = 1024 * 1024;
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

export interface SegmentedContext extends DownloadContext {
  segments: number;
  retries: number;
  /** The plan saved by an earlier run, if any. */
  saved?: SegmentPlan | undefined;
  /** Persists the plan (validator and range positions). */
  onPlan: (plan: SegmentPlan) => Promise<void>;
}

/** Whether downloadSegmented resumes `saved` over a part of `partSize` bytes (else it starts over). */
export function planResumable(saved: SegmentPlan | undefined, size: number | undefined, partSize: number): saved is SegmentPlan {
  const validated = Boolean(saved?.validator.etag || saved?.validator.lastModified);
  return saved !== undefined && size !== undefined && validated && partSize === size && saved.ranges.every((r) => r.end < size);
}

export async function downloadSegmented(target: DownloadTarget, ctx: SegmentedContext): Promise<DownloadResult> {
  const size = target.expectedSize;
  if (size === undefined) throw new SegmentsUnsupportedError(target.url, 'size unknown');
  const existing = await stat(target.partPath).then((s) => s.size, () => -1);
  // Ranges fetched under no validator cannot be trusted after a stop (the file may have been
  // regenerated at the same size): start over, as downloadAttempt does for a single stream.
  const resumable = planResumable(ctx.saved, size, existing);
  // A new plan is one range; it is split later if that connection is slow (adaptive).
  const plan: SegmentPlan = resumable ? structuredClone(ctx.saved!) : { validator: {}, ranges: size > 0 ? [{ start: 0, end: size - 1, pos: 0 }] : [] };
  const file = await open(target.partPath, constants.O_RDWR | constants.O_CREAT).catch((error: unknown) => {
    throw writeError(error, target.partPath);
  });
  const syncBehind = new SyncBehind(() => file.datasync());
  let networkBytes = 0;
  const writers = new Map<SegmentRange, BufferedFileWriter>();
  const checkpoint = async () => {
    for (const [range, writer] of writers) range.pos = Math.max(range.pos, writer.writtenUpTo);
    await ctx.onPlan(plan);
  };
  const timer = setInterval(() => void checkpoint().catch(() => {}), checkpointMs);
  let follower: FileHashFollower | null = null;
  let splitter: ReturnType<typeof setInterval> | undefined;
  let sha256: string;
  try {
    if (!resumable) {
      // Sparse until written. EFBIG here: the file is larger than the destination allows.
      await file.truncate(0).then(() => file.truncate(size)).catch((error: unknown) => {
        throw writeError(error, target.partPath);
      });
    }
    const hashing = new FileHashFollower(target.partPath, () => writtenPrefix(plan, writers));
    follower = hashing;
    // One range failing fails the file: the others stop at once instead of running to their
    // ends, and no range is started or left running once the file is given up.
    const stopRanges = new AbortController();
    const rangeCtx: SegmentedContext = { ...ctx, signal: ctx.signal ? AbortSignal.any([ctx.signal, stopRanges.signal]) : stopRanges.signal };
    const failures: unknown[] = [];
    const fetchers: Array<Promise<void>> = [];
    const fetch = (range: SegmentRange) => {
      const fetching = fetchRange(target, rangeCtx, { file, syncBehind, follower: hashing }, plan, range, writers, (n) => (networkBytes += n));
      fetching.catch((error: unknown) => {
        failures.push(error); // the first is the cause; the rest are the stops it caused
        stopRanges.abort();
      });
      fetchers.push(fetching);
    };
    plan.ranges.forEach(fetch);
    const started = Date.now();
    splitter = setInterval(() => {
      if (stopRanges.signal.aborted) return;
      const added = maybeSplit(plan, writers, ctx.segments, networkBytes / ((Date.now() - started) / 1000));
      if (added.length === 0) return;
      // The shortened range must be on record before a new range writes into what it gave up.
      const recorded = ctx.onPlan(plan);
      recorded.catch(() => {});
      for (const range of added) fetch(range);
    }, splitProbeMs);
    // New fetchers may join while waiting: settle until none is left running.
    for (let settled = 0; settled < fetchers.length; settled = fetchers.length) await Promise.allSettled(fetchers);
    clearInterval(splitter);
    if (failures.length > 0) throw failures[0];
    sha256 = await follower.finish(size);
  } catch (error) {
    clearInterval(splitter);
    await follower?.stop();
    await checkpoint().catch(() => {});
    throw error;
  } finally {
    clearInterval(timer);
    await syncBehind.settled();
    await file.close();
  }
  const expected = target.expectedSha256 ?? plan.validator.digestSha256;
  if (expected && expected !== sha256) {
    await unlink(target.partPath).catch(() => {});
    throw new ReelpackError('CHECKSUM_MISMATCH', `SHA-256 mismatch (server says ${expected.slice(0, 12)}…, got ${sha256.slice(0, 12)}…): ${target.url}`);
  }
  return { size, sha256, validator: plan.validator, networkBytes };
}

/**
 * When the file would take more than `splitWorthSeconds` longer at `bytesPerSec` (all
 * connections together), and it is not one fast connection (fastConnectionBytesPerSec), splits the
 * unfinished range with the most left into pieces so that `segments` ranges are unfinished,
 * and returns the new ones (the old range now ends where the first new one starts). Called
 * again when a range finishes early, it keeps every connection busy to the end, as aria2
 * does. The cut is placed beyond what the range's connection has already received; that
 * connection stops at its new end.
 */
export function maybeSplit(plan: SegmentPlan, writers: Map<SegmentRange, BufferedFileWriter>, segments: number, bytesPerSec: number): SegmentRange[] {
  const reached = (range: SegmentRange) => Math.max(range.pos, writers.get(range)?.acceptedUpTo ?? 0);
  const wanted = segments - plan.ranges.filter((range) => reached(range) <= range.end).length;
  if (wanted <= 0 || !(bytesPerSec > 0)) return [];
  if (plan.ranges.length === 1 && bytesPerSec >= fastConnectionBytesPerSec) return [];
  const from = (range: SegmentRange) => reached(range) + minRangeBytes;
  const left = plan.ranges.reduce((sum, range) => sum + Math.max(0, range.end + 1 - from(range)), 0);
  if (left / bytesPerSec < splitWorthSeconds) return [];
  const widest = plan.ranges.reduce((a, b) => (b.end + 1 - from(b) > a.end + 1 - from(a) ? b : a));
  const start = from(widest);
  const pieces = Math.min(wanted + 1, Math.floor((widest.end + 1 - start) / minRangeBytes));
  if (pieces < 2) return [];
  const step = Math.ceil((widest.end + 1 - start) / pieces);
  const added: SegmentRange[] = [];
  for (let cut = start + step; cut <= widest.end; cut += step) added.push({ start: cut, end: Math.min(widest.end, cut + step - 1), pos: cut });
  widest.end = start + step - 1;
  plan.ranges.splice(plan.ranges.indexOf(widest) + 1, 0, ...added);
  return added;
}

/**
 * End of the prefix of the file the hash follower may read back: every range before it is
 * complete. A range's current block is left out: it is offered to the hash once complete.
 */
function writtenPrefix(plan: SegmentPlan, writers: Map<SegmentRange, BufferedFileWriter>): number {
  for (const range of plan.ranges) {
    // Not range.pos while a writer runs: checkpoints move it into the current block.
    const writer = writers.get(range);
    const written = writer ? writer.completeUpTo : range.pos;
    if (written <= range.end) return written;
  }
  return plan.ranges.at(-1)!.end + 1;
}

async function fetchRange(
  target: DownloadTarget, ctx: SegmentedContext, out: { file: FileHandle; syncBehind: SyncBehind; follower: FileHashFollower }, plan: SegmentPlan, range: SegmentRange,
  writers: Map<SegmentRange, BufferedFileWriter>, countNetwork: (n: number) => void,
): Promise<void> {
  let failures = 0;
  while (range.pos <= range.end) {
    if (ctx.signal?.aborted) throw new ReelpackError('CANCELLED', 'cancelled');
    // The range's end can move (maybeSplit) while this request is under way: compare the
    // answer with what was asked, and stop taking bytes at wherever the end is then.
    const asked = { start: range.pos, end: range.end };
    const headers: Record<string, string> = { 'accept-encoding': 'identity', range: `bytes=${asked.start}-${asked.end}` };
    const ifRange = isStrongEtag(plan.validator.etag) ? plan.validator.etag : plan.validator.lastModified;
    if (ifRange) headers['if-range'] = ifRange;
    let moved = 0;
    try {
      const res = await ctx.http.download(target.url, { headers, signal: ctx.signal });
      if (res.statusCode === 200) {
        res.body.stop();
        throw new SegmentsUnsupportedError(target.url, plan.validator.etag || plan.validator.lastModified ? 'file changed on the server' : 'server ignores Range');
      }
      if (res.statusCode !== 206) {
        res.body.stop();
        throw statusError(res);
      }
      refuseEncodedBody(res, target.url);
      const m = res.headers['content-range']?.match(/^bytes (\d+)-(\d+)\/(\d+)$/);
      if (!m || Number(m[1]) !== asked.start || Number(m[2]) !== asked.end || Number(m[3]) !== target.expectedSize) {
        res.body.stop();
        throw new SegmentsUnsupportedError(target.url, `unexpected Content-Range ${res.headers['content-range'] ?? 'none'}`);
      }
      if (!plan.validator.etag && !plan.validator.lastModified) {
        plan.validator = { etag: res.headers.etag, lastModified: res.headers['last-modified'], digestSha256: parseDigestSha256(res.headers) };
      } else if (!sameValidator(plan.validator, res.headers)) {
        res.body.stop();
        throw new SegmentsUnsupportedError(target.url, 'file changed on the server');
      }
      const writer = new BufferedFileWriter(out.file, range.pos, { gate: ctx.onPlan(plan), syncBehind: out.syncBehind, hashBlock: (block, position) => out.follower.offer(block, position), path: target.partPath });
      writers.set(range, writer);
      try {
        await pumpBody(res, writer, {
          url: target.url, expectedLength: asked.end - asked.start + 1, limiter: ctx.limiter, signal: ctx.signal,
          stopAfter: () => range.end - asked.start + 1,
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
      const error = httpError(thrown, target.url); // a socket error is NETWORK (retried), not INTERNAL
      failures = moved >= progressResetBytes ? 1 : failures + 1;
      const delay = ctx.signal?.aborted ? 0 : retryDelay({ attempt: failures, maxRetries: ctx.retries, code: error.code, statusCode: error.statusCode, retryAfterMs: error.retryAfterMs });
      if (delay === 0) throw error;
      await sleep(delay, undefined, { signal: ctx.signal }).catch(() => {
        throw new ReelpackError('CANCELLED', 'cancelled');
      });
    }
  }
}
