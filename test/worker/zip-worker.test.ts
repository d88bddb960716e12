import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { forkZipWorker } from '../../electron/core/bundle/fork-zip-worker.ts';
import { ZipWorkerClient } from '../../electron/core/bundle/zip-worker-client.ts';
import type { ZipWorkerHandle, ZipWorkerReply } from '../../electron/worker/zip-protocol.ts';
import { makeTempDir, run } from '../core/bundle/bundle-test-kit.ts';

function collect(handle: ZipWorkerHandle): { replies: ZipWorkerReply[]; next: (type: ZipWorkerReply['type']) => Promise<ZipWorkerReply>; exited: Promise<unknown> } {
  const replies: ZipWorkerReply[] = [];
  const waiting: Array<() => void> = [];
  handle.onMessage((reply) => {
    replies.push(reply);
    for (const wake of waiting.splice(0)) wake();
  });
  const exited = new Promise((resolve) => handle.onExit(resolve));
  const next = async (type: ZipWorkerReply['type']): Promise<ZipWorkerReply> => {
    for (;;) {
      const found = replies.find((r) => r.type === type);
      if (found) return found;
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  };
  return { replies, next, exited };
}

test('the worker speaks its protocol under child_process.fork: entries, progress, closed with size and SHA-256', async () => {
  const dir = await makeTempDir('worker');
  try {
    const data = randomBytes(3_000_000);
    await fs.writeFile(path.join(dir, 'a.mp4'), data);
    const handle = forkZipWorker();
    const worker = collect(handle);
    await worker.next('ready');
    const part = path.join(dir, 'w.zip.part');
    handle.send({ type: 'open', archiveId: 1, path: part });
    handle.send({ type: 'add', archiveId: 1, entry: { name: 'a.mp4', sourcePath: path.join(dir, 'a.mp4'), size: data.length, compress: false, mtimeMs: Date.now() } });
    const entry = await worker.next('entry');
    assert.deepEqual(entry, { type: 'entry', archiveId: 1, name: 'a.mp4', size: data.length, crc32: zlib.crc32(data) });
    handle.send({ type: 'close', archiveId: 1, trailer: [{ name: 'manifest.json', text: '{}' }] });
    const closed = await worker.next('closed');
    const bytes = await fs.readFile(part);
    assert.deepEqual(closed, { type: 'closed', archiveId: 1, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    assert.ok(worker.replies.some((r) => r.type === 'progress'));
    assert.match((await run('unzip', ['-t', part])).stdout, /No errors detected/);
    handle.send({ type: 'shutdown' });
    await worker.exited;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('cancel makes the worker delete its partial archive, answer and exit', async () => {
  const dir = await makeTempDir('worker-cancel');
  try {
    const sparse = path.join(dir, 'big');
    await fs.writeFile(sparse, '');
    await fs.truncate(sparse, 8 * 1024 ** 3);
    const handle = forkZipWorker();
    const worker = collect(handle);
    const part = path.join(dir, 'c.zip.part');
    handle.send({ type: 'open', archiveId: 1, path: part });
    handle.send({ type: 'add', archiveId: 1, entry: { name: 'big.mp4', sourcePath: sparse, size: 8 * 1024 ** 3, compress: false, mtimeMs: 0 } });
    await worker.next('progress');
    handle.send({ type: 'cancel' });
    await worker.next('cancelled');
    await worker.exited;
    await assert.rejects(fs.stat(part), { code: 'ENOENT' });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a close still writing when the worker is cancelled (Ctrl-C during the read-back) is rejected as CANCELLED, not left pending', async () => {
  const dir = await makeTempDir('worker-cancel-close');
  const handle = forkZipWorker();
  const client = new ZipWorkerClient(handle, { onEntry: () => {}, onProgress: () => {}, onVerifying: () => {}, onFailure: () => {} });
  try {
    const sparse = path.join(dir, 'big');
    await fs.writeFile(sparse, '');
    await fs.truncate(sparse, 8 * 1024 ** 3);
    client.open(1, path.join(dir, 'c.zip.part'));
    client.add(1, { name: 'big.mp4', sourcePath: sparse, size: 8 * 1024 ** 3, compress: false, mtimeMs: 0 });
    const closing = client.close(1, [{ name: 'manifest.json', text: '{}' }]);
    const settled = closing.then(() => 'closed', (error: { code?: string }) => error.code);
    await client.cancel();
    const outcome = await Promise.race([settled, new Promise((resolve) => setTimeout(() => resolve('still pending'), 2000))]);
    assert.equal(outcome, 'CANCELLED');
    await assert.rejects(client.close(2, []), { code: 'CANCELLED' });
  } finally {
    handle.kill();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a source error is reported as one error message, not a stall', async () => {
  const handle = forkZipWorker();
  const worker = collect(handle);
  const dir = await makeTempDir('worker-error');
  try {
    handle.send({ type: 'open', archiveId: 3, path: path.join(dir, 'e.zip.part') });
    handle.send({ type: 'add', archiveId: 3, entry: { name: 'x.mp4', sourcePath: path.join(dir, 'missing.mp4'), size: 1, compress: false, mtimeMs: 0 } });
    const reply = await worker.next('error');
    assert.equal(reply.type === 'error' && reply.error.code, 'ZIP_FAILED');
    assert.match(reply.type === 'error' ? reply.error.message : '', /^cannot read x\.mp4: .*ENOENT/);
    handle.send({ type: 'shutdown' });
    await worker.exited;
    assert.deepEqual(await fs.readdir(dir), []);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a worker that stops answering is killed and the archive fails with a clear error; a quiet but healthy one is not', { timeout: 30_000 }, async () => {
  const failures: string[] = [];
  const handle = forkZipWorker();
  const exited = new Promise((resolve) => handle.onExit(resolve));
  const client = new ZipWorkerClient(handle, {
    onEntry: () => {},
    onProgress: () => {},
    onVerifying: () => {},
    onFailure: (error) => failures.push(`${error.code}: ${error.message}`),
  }, { silenceMs: 2500 });
  try {
    // Idle for longer than the allowed silence: its `alive` messages keep it in good standing.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    assert.deepEqual(failures, []);
    process.kill(handle.pid!, 'SIGSTOP'); // a stuck worker: nothing from it any more
    const started = performance.now();
    await exited;
    assert.equal(failures.length, 1);
    assert.match(failures[0]!, /^ZIP_FAILED: zip worker did not respond for 3 s and was stopped/);
    assert.ok(performance.now() - started < 6000, 'noticed within a few seconds of the silence limit');
  } finally {
    handle.kill();
    await client.cancel().catch(() => {});
  }
});
