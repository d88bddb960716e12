// The zip worker under Electron's utilityProcess (process.execPath is Electron here, so the
// engine's child_process.fork default does not apply). Adapts it to the worker handle the
// bundler expects.
import { utilityProcess } from 'electron';
import type { ZipWorkerHandle, ZipWorkerReply } from '../worker/zip-protocol.ts';

export function utilityZipWorker(entry: string): () => ZipWorkerHandle {
  return () => {
    const child = utilityProcess.fork(entry, [], { serviceName: 'Reelpack zip worker', stdio: 'inherit' });
    return {
      get pid() {
        return child.pid;
      },
      send: (message) => child.postMessage(message),
      onMessage: (listener) => child.on('message', (message: unknown) => listener(message as ZipWorkerReply)),
      onExit: (listener) => child.on('exit', (code) => listener({ code, signal: null })),
      kill: () => {
        child.kill();
      },
    };
  };
}
