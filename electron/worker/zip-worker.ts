// Zip worker entry. Runs under Electron's utilityProcess.fork (process.parentPort) and under
// Node's child_process.fork (process.send); imports nothing from Electron. Each archive is
// written by ZipArchiveWriter; this file only speaks the protocol.
import '../core/small-heap.ts'; // first: before anything fills the heap
import { ZipArchiveWriter } from '../core/bundle/zip-writer.ts';
import { toReelpackError } from '../core/errors.ts';
import { aliveIntervalMs } from './zip-protocol.ts';
import type { ZipWorkerReply, ZipWorkerRequest } from './zip-protocol.ts';

interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

interface Parent {
  post(message: ZipWorkerReply): void;
  onMessage(listener: (message: ZipWorkerRequest) => void): void;
}

function connectToParent(): Parent {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    return {
      post: (message) => parentPort.postMessage(message),
      onMessage: (listener) => parentPort.on('message', (event) => listener(event.data as ZipWorkerRequest)),
    };
  }
  if (process.send) {
    // The parent died or let go: nothing will ever read this archive; stop and clean up.
    process.on('disconnect', () => void stop(false));
    return {
      post: (message) => process.send?.(message),
      onMessage: (listener) => process.on('message', (message) => listener(message as ZipWorkerRequest)),
    };
  }
  throw new Error('zip-worker.ts must be started by utilityProcess.fork or child_process.fork');
}

const parent = connectToParent();
let writer: ZipArchiveWriter | null = null;

async function stop(answer: boolean): Promise<void> {
  // Cleaning up must not keep a worker alive: if abort hangs (yazl stuck on a dead stream), leave anyway.
  setTimeout(() => process.exit(0), 1500);
  const current = writer;
  writer = null;
  await current?.abort().catch(() => {});
  if (answer) parent.post({ type: 'cancelled' });
  // Let the reply leave before exiting.
  setImmediate(() => process.exit(0));
}

async function closeArchive(archiveId: number, request: Extract<ZipWorkerRequest, { type: 'close' }>): Promise<void> {
  const current = writer;
  if (!current) return;
  try {
    const result = await current.close(request.trailer);
    parent.post({ type: 'closed', archiveId, ...result });
  } catch {
    // Already reported through onError.
  } finally {
    if (writer === current) writer = null;
  }
}

parent.onMessage((message) => {
  switch (message.type) {
    case 'open': {
      const { archiveId } = message;
      writer = new ZipArchiveWriter(message.path, {
        onEntryRead: (entry) => parent.post({ type: 'entry', archiveId, ...entry }),
        onProgress: (progress) => parent.post({ type: 'progress', archiveId, ...progress }),
        onVerifying: () => parent.post({ type: 'verifying', archiveId }),
        onError: (error) => parent.post({ type: 'error', archiveId, error: error.toData() }),
      });
      break;
    }
    case 'add':
      writer?.add(message.entry);
      break;
    case 'close':
      void closeArchive(message.archiveId, message);
      break;
    case 'cancel':
      void stop(true);
      break;
    case 'shutdown':
      void stop(false);
      break;
  }
});

process.on('uncaughtException', (error) => {
  parent.post({ type: 'error', archiveId: null, error: toReelpackError(error).toData() });
  void stop(false);
});

parent.post({ type: 'ready' });
setInterval(() => parent.post({ type: 'alive' }), aliveIntervalMs).unref();
