// Runs one command under /usr/bin/time and measures it: wall time (taken here, around the
// spawn), the peak RSS of its largest process (/usr/bin/time's "Maximum resident set size"),
// and — sampled from /proc every few tens of milliseconds — the peak of the whole process
// tree's RSS and PSS summed (Reelpack is two processes: the CLI and its zip worker; PSS counts
// the Node binary's shared pages once instead of once per process).
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface Measured {
  seconds: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Largest single process, from /usr/bin/time (KiB). */
  maxRssKiB: number | null;
  /** Peak of the tree's summed RSS, sampled (KiB); null when no sample was taken. */
  treeRssKiB: number | null;
  /** Peak of the tree's summed PSS, sampled (KiB). */
  treePssKiB: number | null;
  stdout: string;
  stderr: string;
  /** performance.now() of each stdout line's arrival, relative to the spawn (seconds), when asked for. */
  lineTimes?: Array<{ at: number; line: string }>;
}

export interface RunOptions {
  cwd?: string | undefined;
  env?: Record<string, string | undefined> | undefined;
  /** Sampling interval for the tree RSS/PSS; 0 turns sampling off. */
  sampleMs?: number | undefined;
  /** Keep each stdout line with its arrival time (for NDJSON event timing). */
  timeLines?: boolean | undefined;
  /** Keep at most this many characters of stdout (the tail); default 1 MiB. */
  maxStdout?: number | undefined;
  /** Kill the whole tree after this long (default 10 minutes). */
  timeoutMs?: number | undefined;
}

const pageKiB = 4; // x86-64 Linux

function children(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (child) out.push(Number(child));
    } catch {
      // the thread or process ended meanwhile
    }
  }
  return out;
}

function descendants(root: number): number[] {
  const all: number[] = [];
  const stack = children(root);
  while (stack.length > 0) {
    const pid = stack.pop()!;
    all.push(pid);
    stack.push(...children(pid));
  }
  return all;
}

function memoryOf(pid: number): { rss: number; pss: number } {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const rss = Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? NaN);
    const pss = Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? NaN);
    if (Number.isFinite(rss)) return { rss, pss: Number.isFinite(pss) ? pss : rss };
    const statm = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    const resident = Number(statm[1]) * pageKiB;
    return { rss: resident, pss: resident };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

/** SIGKILL for a process and everything below it (the tree under /usr/bin/time). */
export function killTree(pid: number | undefined): void {
  if (pid === undefined) return;
  for (const p of [...descendants(pid).reverse(), pid]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

let sequence = 0;

export async function runMeasured(command: string, args: readonly string[], options: RunOptions = {}): Promise<Measured> {
  const timeFile = path.join(os.tmpdir(), `reelpack-bench-time-${process.pid}-${sequence++}.txt`);
  const sampleMs = options.sampleMs ?? 50;
  const maxStdout = options.maxStdout ?? 1024 * 1024;
  const start = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%M', '-o', timeFile, command, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let partial = '';
  const lineTimes: Array<{ at: number; line: string }> | undefined = options.timeLines ? [] : undefined;
  child.stdout.on('data', (data: Buffer) => {
    const text = data.toString();
    stdout += text;
    if (stdout.length > maxStdout * 2) stdout = stdout.slice(-maxStdout);
    if (lineTimes) {
      const at = (performance.now() - start) / 1000;
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) lineTimes.push({ at, line });
    }
  });
  child.stderr.on('data', (data: Buffer) => {
    stderr += data.toString();
    if (stderr.length > 64 * 1024) stderr = stderr.slice(-32 * 1024);
  });
  let treeRss: number | null = null;
  let treePss: number | null = null;
  const sample = () => {
    if (child.pid === undefined) return;
    const pids = descendants(child.pid); // everything below /usr/bin/time
    if (pids.length === 0) return;
    let rss = 0;
    let pss = 0;
    for (const pid of pids) {
      const m = memoryOf(pid);
      rss += m.rss;
      pss += m.pss;
    }
    treeRss = Math.max(treeRss ?? 0, rss);
    treePss = Math.max(treePss ?? 0, pss);
  };
  const timer = sampleMs > 0 ? setInterval(sample, sampleMs) : undefined;
  const killer = setTimeout(() => killTree(child.pid), options.timeoutMs ?? 600_000);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve({ code: c, signal: s }));
  });
  const seconds = (performance.now() - start) / 1000;
  clearInterval(timer);
  clearTimeout(killer);
  if (lineTimes && partial) lineTimes.push({ at: seconds, line: partial });
  let maxRssKiB: number | null = null;
  try {
    const text = await fs.readFile(timeFile, 'utf8');
    // With a non-zero exit, /usr/bin/time writes "Command exited with non-zero status N" first.
    const last = text.trim().split('\n').at(-1) ?? '';
    maxRssKiB = /^\d+$/.test(last) ? Number(last) : null;
  } catch {
    // no report (killed)
  }
  await fs.rm(timeFile, { force: true });
  const result: Measured = { seconds, code, signal, maxRssKiB, treeRssKiB: treeRss, treePssKiB: treePss, stdout, stderr };
  if (lineTimes) result.lineTimes = lineTimes;
  return result;
}

/** The child's exit code under /usr/bin/time (it passes it through). */
export function succeeded(m: Measured): boolean {
  return m.code === 0;
}
