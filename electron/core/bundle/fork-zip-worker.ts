// The default way to start the zip worker: child_process.fork with the running Node. Electron's
// main process passes its own spawnWorker built on utilityProcess.fork(zipWorkerEntry) instead
// (process.execPath is the Electron binary there).
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ZipWorkerHandle, ZipWorkerReply } from '../../worker/zip-protocol.ts';

// Set by build/build-cli.ts: in the bundled CLI the worker is a file next to it.
declare const __REELPACK_BUNDLED_WORKER__: string | undefined;

/** Absolute path of the worker entry: electron/worker/zip-worker.ts, or the bundled worker. */
export const zipWorkerEntry = typeof __REELPACK_BUNDLED_WORKER__ === 'string'
  ? fileURLToPath(new URL(__REELPACK_BUNDLED_WORKER__, import.meta.url))
  : fileURLToPath(new URL(`../../worker/zip-worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/**
 * The worker's environment: the parent's, plus a fixed 128 KiB mmap threshold for glibc's
 * malloc. By default glibc raises that threshold each time a large block is freed, after
 * which the worker's 1 MiB read and write buffers come from the brk heap, which only shrinks
 * from its top: 72–81 MB of it stayed resident while zipping a 1 GiB file. With the threshold
 * fixed they are mmapped and returned when freed (worker peak PSS 118–127 → 80–104 MB, same
 * speed). Other C libraries (macOS, Windows, musl) ignore the variable.
 */
export function zipWorkerEnv(): NodeJS.ProcessEnv {
  return { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' };
}

export function forkZipWorker(entry = zipWorkerEntry): ZipWorkerHandle {
  const child = fork(entry, [], {
    execPath: process.execPath,
    execArgv: [],
    env: zipWorkerEnv(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
  });
  // A send to a worker that just died fails with EPIPE. Unhandled, that 'error' event killed
  // the whole CLI; the 'exit' below already reports the death as one clear ZIP_FAILED.
  child.on('error', () => {});
  return {
    pid: child.pid,
    send: (message) => {
      if (child.connected) child.send(message, () => {});
    },
    onMessage: (listener) => child.on('message', (message) => listener(message as ZipWorkerReply)),
    onExit: (listener) => child.on('exit', (code, signal) => listener({ code, signal })),
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}
