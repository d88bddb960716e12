// The `reelpack` command line, on the same engine as the app. Exit codes: 0 all complete,
// 1 some files failed for good (the rest kept), 2 usage errors and unusable sources,
// 130 interrupted (the job is saved; run the same command again to resume), 143 after a SIGTERM.
import '../core/small-heap.ts'; // first: before anything fills the heap
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { resolve } from 'node:path';
import { ReelpackError, toReelpackError } from '../core/errors.ts';
import type { ErrorCode } from '../core/errors.ts';
import { jobDefaults } from '../core/jobs/job-defaults.ts';
import { hasSavedJob, runJob } from '../core/jobs/job-runner.ts';
import type { OutputMode } from '../core/jobs/job-runner.ts';
import { listSource } from '../core/sources/list-source.ts';
import { sourceKinds } from '../core/sources/source-types.ts';
import type { ListingProgress, SourceKind } from '../core/sources/source-types.ts';
import { countOf, describeListedSize, parseSize } from '../core/units.ts';
import { createPrinter, listingCount, terminalSafe } from './progress-printer.ts';

const usageCodes = new Set<ErrorCode>(['USAGE', 'SOURCE_UNUSABLE', 'ACCESS_DENIED', 'BAD_LISTING', 'EMPTY_LISTING', 'LOCKED', 'JOB_MISMATCH']);

/** A fetch is between its start and its summary (see the EPIPE handler). */
let fetchRunning = false;

/** What to do next, as the command line says it (the engine's messages say what happened). */
function adviceFor(code: ErrorCode): string | null {
  if (code === 'ACCESS_DENIED') return 'give the server\'s access token with --token or REELPACK_TOKEN';
  return null;
}

export function exitCodeFor(code: ErrorCode | undefined): number {
  if (code === undefined) return 0;
  if (code === 'CANCELLED') return 130;
  return usageCodes.has(code) ? 2 : 1;
}

function intInRange(name: string, min = 1, max = 1000) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
}

function sizeArg(value: string): number {
  try {
    return parseSize(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** With --json the last line is always a summary, also for a command that stopped before any job. */
function printErrorSummary(err: ReelpackError): void {
  process.stdout.write(JSON.stringify({ type: 'summary', ok: false, files: 0, bytes: 0, networkBytes: 0, failed: [], outputs: [], error: err.toData() }) + '\n');
}

function fail(error: unknown, json: boolean): never {
  const err = toReelpackError(error);
  if (json) printErrorSummary(err);
  process.stderr.write(`reelpack: ${terminalSafe(err.message)}\n`);
  const advice = adviceFor(err.code);
  if (advice) process.stderr.write(`${advice}\n`);
  process.exit(exitCodeFor(err.code));
}

interface FetchFlags {
  out: string; mode: OutputMode; zip?: string; volumeSize?: number; concurrency: number; token?: string;
  stallTimeout: number; retries: number; depth: number; kind?: SourceKind; onlyNew: boolean; allowPartial: boolean; segments: number; limitRate?: number; json: boolean;
}

export function buildProgram(): Command {
  const program = new Command('reelpack')
    .description('Pull every result off an AI video generation server, resumably, into verified ZIP archives.')
    .version('0.1.0')
    .showHelpAfterError('(run "reelpack --help" for usage)')
    .exitOverride();

  program.command('fetch')
    .description('download every result of <source> into --out (re-run the same command to resume)')
    .argument('<source>', 'results API / folder listing / URL list / single file URL, or a local folder, list file or file')
    .requiredOption('-o, --out <dir>', 'destination folder')
    .addOption(new Option('--mode <mode>', 'zip: one archive; folder: loose files; both').choices(['zip', 'folder', 'both']).default('zip'))
    .option('--zip <file name>', 'archive name (default {host}_results_{yyyyMMdd_HHmm}.zip)')
    .option('--volume-size <size>', 'split into independent archives of at most this size (e.g. 2g, 4000m)', sizeArg)
    .option('-c, --concurrency <n>', 'files downloaded at once', intInRange('--concurrency', 1, 64), jobDefaults.concurrency)
    .option('--token <t>', 'bearer token (or set REELPACK_TOKEN)')
    .option('--stall-timeout <s>', 'seconds without a byte before a download is retried', intInRange('--stall-timeout', 1, 3600), jobDefaults.stallTimeoutMs / 1000)
    .option('--retries <n>', 'retries per file after a failure without progress', intInRange('--retries', 0, 100), jobDefaults.retries)
    .option('--depth <n>', 'subfolder depth for folder listings', intInRange('--depth', 0, 32), jobDefaults.depth)
    .addOption(new Option('--kind <kind>', 'force the source kind').choices([...sourceKinds]))
    .option('--only-new', 'only results not fetched from this source before', false)
    .option('--allow-partial', 'bundle what arrived even if some files failed (listed in the manifest)', false)
    .option('--segments <n>', 'up to n connections for each file of 64 MiB or more, added only when one connection is slow (1 = off)', intInRange('--segments', 1, 16), jobDefaults.segments)
    .option('--limit-rate <bytes/s>', 'cap the total download speed (e.g. 500k, 10m per second)', sizeArg)
    .option('--json', 'NDJSON events on stdout; the last line is the summary', false)
    .action(async (source: string, flags: FetchFlags) => {
      const print = createPrinter(flags.json ? 'json' : process.stderr.isTTY ? 'tty' : 'plain', process.stdout, process.stderr);
      const controller = new AbortController();
      let interrupts = 0;
      let stoppedBy: NodeJS.Signals | null = null;
      const onSignal = (signal: NodeJS.Signals) => {
        interrupts++;
        stoppedBy ??= signal;
        if (interrupts > 1) {
          // Now, as asked: process.exit() waits for libuv's threads, and one blocked in a read
          // of a dead network mount never returns. The signal's own default action ends the
          // process at once (the journal is safe against that, as against kill -9).
          process.removeListener('SIGINT', onSignal);
          process.removeListener('SIGTERM', onSignal);
          process.kill(process.pid, signal);
          return;
        }
        process.stderr.write('\nstopping… (the job is saved; run the same command again to resume)\n');
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      fetchRunning = true;
      const summary = await runJob({
        source, outDir: resolve(flags.out), mode: flags.mode, zipName: flags.zip, volumeSize: flags.volumeSize,
        concurrency: flags.concurrency, token: flags.token ?? process.env.REELPACK_TOKEN, stallTimeoutMs: flags.stallTimeout * 1000,
        retries: flags.retries, depth: flags.depth, kind: flags.kind, onlyNew: flags.onlyNew, allowPartial: flags.allowPartial, segments: flags.segments, limitRate: flags.limitRate,
      }, print, controller.signal);
      fetchRunning = false;
      process.exitCode = summary.error ? exitCodeFor(summary.error.code) : summary.ok ? 0 : 1; // before printing: a closed pipe exits with it
      // Stopped by `kill` or a service manager: 128 + 15, as the shell reports a SIGTERM.
      if (process.exitCode === 130 && stoppedBy === 'SIGTERM') process.exitCode = 143;
      print(summary);
      // The engine's messages say what happened; what to do next is the command line's to say.
      const advice = summary.error ? adviceFor(summary.error.code) : null;
      if (advice) process.stderr.write(`${advice}\n`);
      if (summary.error) {
        // Only if there is a job to resume (one refused for space before it began left nothing).
        if (process.exitCode === 1 && hasSavedJob(flags.out)) process.stderr.write('the job is saved: run the same command again to resume\n');
      } else if (!summary.ok && flags.allowPartial) {
        // Finished: a rerun would be a new job downloading everything again.
        const archived = summary.outputs.some((o) => /\.zip$/i.test(o.path));
        process.stderr.write(`the job is finished without the failed files${archived ? '; the manifest lists them' : ''}\n`);
      } else if (!summary.ok) {
        process.stderr.write('the other files are kept: run the same command again to retry the failed ones, or add --allow-partial to finish without them\n');
      }
    });

  program.command('list')
    .description('list every result of <source> without downloading')
    .argument('<source>')
    .option('--token <t>', 'bearer token (or set REELPACK_TOKEN)')
    .option('--depth <n>', 'subfolder depth for folder listings', intInRange('--depth', 0, 32), jobDefaults.depth)
    .addOption(new Option('--kind <kind>', 'force the source kind').choices([...sourceKinds]))
    .option('--json', 'print the listing as JSON', false)
    .action(async (source: string, flags: { token?: string; depth: number; kind?: SourceKind; json: boolean }) => {
      try {
        // A large batch takes a while to list: a count on the terminal, erased when the list prints.
        const onProgress = process.stderr.isTTY && !flags.json ? (p: ListingProgress) => process.stderr.write(`\r\x1b[2K${listingCount(p)}`) : undefined;
        const listing = await listSource(source, { token: flags.token ?? process.env.REELPACK_TOKEN, depth: flags.depth, kind: flags.kind, onProgress }).finally(() => {
          if (onProgress) process.stderr.write('\r\x1b[2K');
        });
        if (flags.json) {
          process.stdout.write(JSON.stringify(listing) + '\n');
          return;
        }
        const total = listing.items.reduce((s, i) => s + (i.size ?? 0), 0);
        const unsized = listing.items.filter((i) => i.size === undefined).length;
        for (const item of listing.items) process.stdout.write(`${String(item.size ?? '?').padStart(12)}  ${terminalSafe(item.name)}\n`);
        for (const skip of listing.skipped) process.stdout.write(`${'skipped'.padStart(12)}  ${terminalSafe(`${skip.name} (${skip.reason})`)}\n`);
        // The listing's own warnings (pages missing, malformed checksums): the list is not the whole story.
        for (const warning of listing.warnings ?? []) process.stderr.write(`warning: ${terminalSafe(warning)}\n`);
        process.stdout.write(`${countOf(listing.items.length, 'file')}, ${describeListedSize(total, listing.items.length, unsized)} (${listing.kind} source ${listing.source})\n`);
      } catch (error) {
        fail(error, flags.json);
      }
    });

  program.command('verify')
    .description('re-check archives against their manifest.json (sizes, CRC-32, SHA-256); exit 1 if any is damaged')
    .argument('<zip...>')
    .option('--json', 'print the results as JSON', false)
    .action(async (paths: string[], flags: { json: boolean }) => {
      const { verifyArchive } = await import('../core/bundle/verify-archive.ts');
      let allOk = true;
      for (const path of paths) {
        const check = await verifyArchive(resolve(path)).catch((error: unknown) => ({ ok: false, entries: 0, problems: [toReelpackError(error).message] }));
        allOk &&= check.ok;
        if (flags.json) process.stdout.write(JSON.stringify({ path, ...check }) + '\n');
        else {
          process.stdout.write(`${check.ok ? 'OK' : 'DAMAGED'}  ${path} (${check.entries} entries)\n`);
          for (const problem of check.problems) process.stdout.write(`  ${problem}\n`);
        }
      }
      process.exitCode = allOk ? 0 : 1;
    });

  program.command('serve')
    .description('serve the Reelpack UI and its API to a browser on 127.0.0.1 (for headless machines)')
    .option('--port <n>', 'port (default: any free port)', intInRange('--port', 0, 65535))
    .option('--config-dir <dir>', 'settings and job history (default: $REELPACK_HOME, else $XDG_CONFIG_HOME/reelpack or ~/.config/reelpack)')
    .option('--ui-dir <dir>', 'built UI to serve (default: dist/ui, made by npm run build:ui)')
    .action(async (flags: { port?: number; configDir?: string; uiDir?: string }) => {
      const args = [
        ...(flags.port !== undefined ? ['--port', String(flags.port)] : []),
        ...(flags.configDir ? ['--config-dir', flags.configDir] : []),
        ...(flags.uiDir ? ['--ui-dir', flags.uiDir] : []),
      ];
      // Loaded on demand: the host (ws, the app service) is not needed to fetch.
      const { runServeCommand } = await import('../host/serve-command.ts');
      await runServeCommand(args).catch((error: unknown) => fail(error, false));
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  // `reelpack … | head`: a reader that went away is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      // A fetch still running is interrupted (its journal keeps it resumable, as after Ctrl-C):
      // 130, never 0, which says every file is complete.
      if (error.code === 'EPIPE') process.exit(fetchRunning ? 130 : (process.exitCode ?? 0));
      throw error;
    });
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      const usage = !(error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0);
      // Commander has printed the message; a --json reader gets it as the summary too.
      if (usage && argv.includes('--json')) printErrorSummary(new ReelpackError('USAGE', error.message.replace(/^error: /, '')));
      process.exitCode = usage ? 2 : 0;
      return;
    }
    fail(error instanceof ReelpackError ? error : toReelpackError(error), argv.includes('--json'));
  }
}

await main(process.argv.slice(2));
