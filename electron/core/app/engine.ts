// The engine functions the app drives, gathered in one object so the service can be built on
// the real engine (everywhere) and its wiring read in one place.
import { loadCatalog } from '../jobs/catalog.ts';
import { discardJob, readJobState, runJob } from '../jobs/job-runner.ts';
import { listSource } from '../sources/list-source.ts';

export const engine = { listSource, runJob, discardJob, readJobState, loadCatalog };
export type Engine = typeof engine;
export type { JobOptions } from '../jobs/job-runner.ts';
