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

export function startCli(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [reelpackBin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      const events: JobEvent[] = [];
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          events.push(JSON.parse(line) as JobEvent);
        } catch {
          // not an event line
        }
      }
      const last = events.at(-1);
      resolve({ code, signal, stdout, stderr, events, summary: last?.type === 'summary' ? last : undefined });
    });
  });
  return { child, done };
}

export function runCli(args: string[], env?: Record<string, string>): Promise<CliResult> {
  return startCli(args, env).done;
}
