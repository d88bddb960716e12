// Job statuses as the screens group them. (The engine's own list is isActive in
// electron/core/app/job-session.ts; the renderer may import only types from the engine.)
import type { JobRecord } from '../../electron/core/contract.ts';

/** A job the engine is working on now: it can be paused or cancelled, not resumed or forgotten. */
export function isActiveJob(job: Pick<JobRecord, 'status'>): boolean {
  return job.status === 'running' || job.status === 'pausing' || job.status === 'cancelling';
}
