// The default way to start the zip worker: child_process.fork with the running Node. Electron's
// main process passes its own spawnZipWorker built on utilityProcess.fork of its bundled
// dist/app/zip-worker.mjs instead (process.execPath is the Electron binary there).
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ZipWorkerHandle, ZipWorkerReply } from '../../worker/zip-protocol.ts';

// Set by build/build-cli.ts: in the bundled CLI the worker is a file next to it.
declare const __REELPACK_BUNDLED_WORKER__: string | undefined;

/** Absolute path of the worker entry: electron/worker/zip-worker.ts, or the bundled worker. */
const zipWorkerEntry = typeof __REELPACK_BUNDLED_WORKER__ === 'string'
  ? fileURLToPath(new URL(__REELPACK_BUNDLED_WORKER__, import.meta.url))
  : fileURLToPath(new URL(`../../worker/zip-worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

export function forkZipWorker(entry = zipWorkerEntry): ZipWorkerHandle {
  const child = fork(entry, [], {
    execPath: process.execPath,
    execArgv: [],
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
