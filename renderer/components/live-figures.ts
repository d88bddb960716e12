// Whether the Progress screen's Speed and Time left describe downloads going on now (else "—").
import type { JobProgress, JobStatus } from '../../electron/core/contract.ts';

/**
 * Not while the job lists its source, not right after a Resume or Retry (`stale`: the figures
 * are still the last run's until the engine measures again), and not once every byte is in while
 * the archive is written and read back (the engine says 0 B/s and 0 s then, as if it were done).
 */
export function measuringSpeed(status: JobStatus, progress: Pick<JobProgress, 'bytesDone' | 'bytesTotal' | 'sizesKnown'>, now: { listing: boolean; stale: boolean }): boolean {
  const allBytesIn = progress.sizesKnown && progress.bytesTotal > 0 && progress.bytesDone >= progress.bytesTotal;
  return status === 'running' && !now.listing && !now.stale && !allBytesIn;
}
