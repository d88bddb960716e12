// Shared pieces of the "nothing lost" suite: the long/short switch, the seed, the totals
// that `npm run test:reliability` prints, independent archive checks, and tree snapshots.
import { execFile } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { readdir, readFile, lstat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { reelpackBin, startCli } from '../helpers/cli.ts';
import type { CliResult } from '../helpers/cli.ts';

const run = promisify(execFile);

/** RELIABILITY_LONG=1 runs the long versions (npm run test:reliability). */
export const long = process.env.RELIABILITY_LONG === '1';
/** RELIABILITY_SEED=n repeats a run exactly; the default seed is fixed. */
export const seed = Number(process.env.RELIABILITY_SEED ?? 20261128);

export interface Totals {
  faults?: number;
  kills?: number;
  hostile?: number;
  files?: number;
  archives?: number;
  lost?: number;
  corrupt?: number;
}

/** Adds figures to the run's totals (a file named by RELIABILITY_TOTALS, when set). */
export function record(test: string, totals: Totals): void {
  const file = process.env.RELIABILITY_TOTALS;
  if (file) appendFileSync(file, JSON.stringify({ test, ...totals }) + '\n');
}

/** Checks an archive with every independent reader here, and with `reelpack verify`. Throws naming the reader that refused. */
export async function checkArchive(zip: string): Promise<void> {
  const readers: Array<[string, string[]]> = [
    ['unzip', ['-tq', zip]],
    ['7z', ['t', '-bd', '-bso0', '-bsp0', zip]],
    ['bsdtar', ['-tf', zip]],
    ['python3', ['-c', 'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nbad = z.testzip()\nsys.exit(f"bad entry {bad}" if bad else 0)', zip]],
    [process.execPath, [reelpackBin, 'verify', zip]],
  ];
  for (const [command, args] of readers) {
    try {
      await run(command, args, { maxBuffer: 64 * 1024 * 1024 });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${command === process.execPath ? 'reelpack verify' : command} refused ${zip}: ${e.stderr || e.stdout || e.message}`);
    }
  }
}

/** Entry names of an archive, as Python's zipfile reads them. */
export async function archiveEntries(zip: string): Promise<string[]> {
  const { stdout } = await run('python3', ['-c', 'import sys, zipfile, json\nprint(json.dumps(zipfile.ZipFile(sys.argv[1]).namelist()))', zip], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as string[];
}

/** Extracts with Python's zipfile (one reader) and returns relative path → bytes. */
export async function extractAll(zip: string, into: string): Promise<Map<string, Buffer>> {
  await run('python3', ['-c', 'import sys, zipfile\nzipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', zip, into]);
  return readTree(into);
}

/** Every regular file under `root` (relative path → bytes), skipping names in `skip`. */
export async function readTree(root: string, skip: (rel: string) => boolean = () => false): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const rel of await listTree(root)) {
    if (rel.endsWith('/') || skip(rel)) continue;
    out.set(rel, await readFile(join(root, rel)));
  }
  return out;
}

/** Every path under `root`, folders with a trailing "/", symlinks marked "@" — a snapshot to compare. */
export async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      const rel = relative(root, full);
      if (entry.isSymbolicLink()) out.push(`${rel}@`);
      else if (entry.isDirectory()) {
        out.push(`${rel}/`);
        await walk(full);
      } else out.push(rel);
    }
  };
  if (await lstat(root).catch(() => null)) await walk(root);
  return out.sort();
}

/** Runs `reelpack` with a chosen working folder (helpers/cli.ts runs it in the repo). */
export function runCliIn(cwd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<CliResult> {
  return startCli(args, env, { cwd, timeoutMs }).done;
}

/** What a user must never see: a stack trace or a raw JavaScript error. */
export const stackTrace = /\n\s+at .+[:(]|TypeError|ReferenceError|SyntaxError: Unexpected|Cannot read prop|undefined is not|\[object Object\]|ERR_[A-Z_]+/;

/** A safe archive entry / relative path: no absolute path, drive, "..", backslash or control character. */
export function isSafeRelative(name: string): boolean {
  if (name === '' || name.startsWith('/') || /^[a-zA-Z]:/.test(name) || name.includes('\\')) return false;
  if (/[\u0000-\u001f\u007f]/.test(name)) return false;
  return name.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}
