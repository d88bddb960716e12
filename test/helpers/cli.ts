// Runs the real `reelpack` command (bin/reelpack.js) as a child process.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { JobEvent, JobSummary } from '../../electron/core/jobs/job-events.ts';

export const reelpackBin = fileURLToPath(new URL('../../bin/reelpack.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  events: JobEvent[];
  summary: JobSummary | undefined;
}

/** Parses the NDJSON event lines of `reelpack fetch --json`. */
export function parseEvents(stdout: string): JobEvent[] {
  const events: JobEvent[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      events.push(JSON.parse(line) as JobEvent);
    } catch {
      // not an event line
    }
  }
  return events;
}

export interface CliOptions {
  /** Working folder of the command. */
  cwd?: string;
  /** Kill the command (SIGKILL) if it runs longer than this. */
  timeoutMs?: number;
  /** Run it as this user (this process must be root): file permissions hold for it. */
  user?: { uid: number; gid: number };
  /**
   * `ulimit -f` for the command and its zip worker (KiB): writes past it fail with EFBIG, as on
   * FAT32 past 4 GiB.
   */
  fileSizeLimitKiB?: number;
}

/** `env` is added to this process's environment; an undefined value removes a variable. */
export function startCli(args: string[], env: Record<string, string | undefined> = {}, options: CliOptions = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const command = options.fileSizeLimitKiB === undefined
    ? [process.execPath, reelpackBin, ...args]
    : ['bash', '-c', `ulimit -f ${options.fileSizeLimitKiB}; exec "$0" "$@"`, process.execPath, reelpackBin, ...args];
  const child = spawn(command[0]!, command.slice(1), { cwd: options.cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...options.user });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const events = parseEvents(stdout);
      const last = events.at(-1);
      resolve({ code, signal, stdout, stderr, events, summary: last?.type === 'summary' ? last : undefined });
    });
  });
  return { child, done };
}

export function runCli(args: string[], env?: Record<string, string | undefined>, options?: CliOptions): Promise<CliResult> {
  return startCli(args, env, options).done;
}
