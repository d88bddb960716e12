// The one set of job defaults: the command line's option defaults and the app's settings
// both start from these, so a job behaves the same whichever started it.
export const jobDefaults = {
  /** Files downloaded at once. */
  concurrency: 3,
  /** No byte for this long fails an attempt as STALLED. */
  stallTimeoutMs: 30_000,
  /** Retries per file after failures in a row without progress. */
  retries: 5,
  /** Subfolder depth for folder listings and local folders. */
  depth: 3,
  /** Connections one large file may use (--segments); 1 turns segmenting off. */
  segments: 4,
} as const;
