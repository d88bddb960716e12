// The options of a job run in-process by a test: everything under `dir` (the destination in
// out/, the --only-new catalog in catalog/), one file at a time, unless `extra` says otherwise.
import { join } from 'node:path';
import type { JobOptions } from '../../electron/core/jobs/job-runner.ts';

export function jobOptions(source: string, dir: string, extra: Partial<JobOptions> = {}): JobOptions {
  return {
    source, outDir: join(dir, 'out'), mode: 'folder', concurrency: 1, stallTimeoutMs: 10_000, retries: 1, depth: 3,
    onlyNew: false, allowPartial: false, catalogDir: join(dir, 'catalog'), ...extra,
  };
}
