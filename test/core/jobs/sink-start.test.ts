// The zip worker (a second Node process, ~0.1 s to start) is started before the first download,
// so its start-up overlaps the transfer instead of delaying the first entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { forkZipWorker } from '../../../electron/core/bundle/fork-zip-worker.ts';
import { runJob } from '../../../electron/core/jobs/job-runner.ts';
import { startDemoServer } from '../../servers/demo-server.ts';
import { tempDir } from '../../helpers/servers.ts';

test('zip mode starts its worker before the first file is requested', async () => {
  const order: string[] = [];
  const demo = await startDemoServer({
    count: 2,
    size: 100_000,
    faults: (_req, file) => {
      if (file) order.push(`request ${file.name}`);
      return undefined;
    },
  });
  const dir = await tempDir();
  try {
    const summary = await runJob({
      source: demo.url, outDir: join(dir.path, 'out'), mode: 'zip', concurrency: 1, stallTimeoutMs: 30_000, retries: 0, depth: 3,
      onlyNew: false, allowPartial: false, catalogDir: join(dir.path, 'catalog'),
      spawnZipWorker: () => {
        order.push('worker');
        return forkZipWorker();
      },
    }, () => {});
    assert.equal(summary.ok, true, JSON.stringify(summary));
    assert.equal(order[0], 'worker', order.join(', '));
    assert.equal(order.filter((o) => o === 'worker').length, 1, 'one worker for the job');
  } finally {
    await demo.close();
    await dir.remove();
  }
});

test('a cancel while the zip worker starts ends the job before any file is started', async () => {
  const requests: string[] = [];
  const demo = await startDemoServer({
    count: 2,
    size: 100_000,
    faults: (_req, file) => {
      if (file) requests.push(file.name);
      return undefined;
    },
  });
  const dir = await tempDir();
  const cancel = new AbortController();
  const started: string[] = [];
  try {
    const summary = await runJob({
      source: demo.url, outDir: join(dir.path, 'out'), mode: 'zip', concurrency: 1, stallTimeoutMs: 30_000, retries: 0, depth: 3,
      onlyNew: false, allowPartial: false, catalogDir: join(dir.path, 'catalog'),
      spawnZipWorker: () => {
        cancel.abort(); // the user cancels while the job is getting ready
        return forkZipWorker();
      },
    }, (event) => {
      if (event.type === 'file' && event.state === 'downloading') started.push(event.name);
    }, cancel.signal);
    assert.equal(summary.ok, false);
    assert.equal(summary.error?.code, 'CANCELLED', JSON.stringify(summary));
    assert.deepEqual(requests, [], 'nothing requested after the cancel');
    assert.deepEqual(started, [], 'no file even started: the queue closed at once');
  } finally {
    await demo.close();
    await dir.remove();
  }
});
