// The default way to start the zip worker: child_process.fork with the running Node. Electron's
// main process passes its own spawnWorker built on utilityProcess.fork(zipWorkerEntry) instead
// (process.execPath is the Electron binary there).
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ZipWorkerHandle, ZipWorkerReply } from '../../worker/zip-protocol.ts';

// ".ts" when Node runs the sources, ".js" in the built dist/.
const ownExtension = path.extname(fileURLToPath(import.meta.url));

/** Absolute path of the worker entry (electron/worker/zip-worker.ts or its built .js). */
export const zipWorkerEntry = fileURLToPath(new URL(`../../worker/zip-worker${ownExtension}`, import.meta.url));

export function forkZipWorker(): ZipWorkerHandle {
  const child = fork(zipWorkerEntry, [], {
    execPath: process.execPath,
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
  });
  return {
    pid: child.pid,
    send: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on('message', (message) => listener(message as ZipWorkerReply)),
    onExit: (listener) => child.on('exit', (code, signal) => listener({ code, signal })),
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}
