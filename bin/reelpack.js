#!/usr/bin/env node
// Launcher for the `reelpack` command. It runs on Node >= 24 (Electron 45's Node): on an older
// system Node it re-runs itself on the Node 24 that `npm install` put in node_modules (npm
// package `node`). It runs the bundle in dist/cli (built by `npm install`, see
// build/build-cli.ts) while that is newer than every source file, else the TypeScript
// sources directly (type stripping), so an edit is never shadowed by a stale bundle.
//
// On Linux a fetch that zips also starts that Node with MALLOC_ARENA_MAX=1. glibc gives each
// thread that allocates an arena of its own (up to 8 per core: the hashing thread, libuv's and
// V8's) and keeps what each frees. With one arena the CLI and its zip worker (which inherits the
// environment) peaked 16 MB lower on 1000 × 1 MiB end to end (tree PSS 135 instead of 151 MB,
// means of 6 alternated runs; 142 with two arenas), at the same speed. glibc reads the variable
// only at start, hence a re-exec in place (~20 ms; NODE_OPTIONS preloads run again, and
// --inspect-brk stops twice). Folder mode (one process, ~90 MB) skips it:
// there the re-exec and the shared arena made 40 × 8 MiB ~5 % slower (8 alternated runs).
// Electron's processes use Chromium's allocator instead.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
const args = process.argv.slice(2);
const runsZipWorker = args[0] === 'fetch' && !args.some((arg, i) => arg === '--mode=folder' || (arg === '--mode' && args[i + 1] === 'folder'));
const limitArenas = process.platform === 'linux' && runsZipWorker && process.env.MALLOC_ARENA_MAX === undefined;
const env = limitArenas ? { ...process.env, MALLOC_ARENA_MAX: '1' } : process.env;
if (major < 24) {
  // On Windows the package's bin/node is a placeholder text file; the binary is bin/node.exe.
  const bundledNode = fileURLToPath(new URL(`../node_modules/node/bin/node${process.platform === 'win32' ? '.exe' : ''}`, import.meta.url));
  if (!existsSync(bundledNode)) {
    process.stderr.write(`reelpack: needs Node 24 or newer (this is ${process.version}); run "npm install" in the project folder first\n`);
    process.exit(2);
  }
  const child = spawn(bundledNode, [fileURLToPath(import.meta.url), ...args], { stdio: 'inherit', env });
  child.on('error', (error) => {
    process.stderr.write(`reelpack: could not start ${bundledNode}: ${error.message}; run "npm install" in the project folder again\n`);
    process.exit(2);
  });
  // The terminal sends Ctrl-C to both processes; let the child decide how to stop.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => {});
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)));
} else {
  // Node 24 aborts the process (it does not throw) when the execve call itself fails, so the
  // binary is checked first; what throws (a permission model, no execve) only skips the limit.
  if (limitArenas && typeof process.execve === 'function' && isExecutable(process.execPath)) {
    try {
      process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], env);
    } catch {
      // runs without the limit: more memory, nothing else
    }
  }
  const bundle = fileURLToPath(new URL('../dist/cli/reelpack.mjs', import.meta.url));
  // A file URL, not a path: on Windows import() refuses "C:\\…" (ERR_UNSUPPORTED_ESM_URL_SCHEME).
  await import(bundleIsFresh(bundle) ? pathToFileURL(bundle).href : '../electron/cli/main.ts');
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function bundleIsFresh(bundle) {
  if (!existsSync(bundle)) return false;
  return statSync(bundle).mtimeMs >= newestSource(fileURLToPath(new URL('../electron', import.meta.url)));
}
