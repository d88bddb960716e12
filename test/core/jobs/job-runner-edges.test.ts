// Edges of a running job that each had a fix without a test of its own: a worker that throws
// (the journal cannot be written) stops the whole job at once; a local file whose copy cannot
// be opened leaves no descriptor open on it; a journal that cannot record a download's
// validator stops the job as a write error instead of being retried as a network one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runJob } from '../../../electron/core/jobs/job-runner.ts';
import { Journal } from '../../../electron/core/jobs/journal.ts';
import { sampleVideo, startDemoServer } from '../../servers/demo-server.ts';
import { jobOptions } from '../../helpers/job-options.ts';
import { tempDir } from '../../helpers/servers.ts';

/** What this process has open, by path (the fd used to list /proc/self/fd itself is gone by the readlink). */
function openPaths(): string[] {
  const paths: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      paths.push(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // closed meanwhile
    }
  }
  return paths;
}

test('a worker that throws (the journal cannot record a file\'s new size) stops the whole job: the other downloads stop with it', async () => {
  let settled = false;
  const lateRequests: string[] = [];
  // Paced: the two other files take 6 s each, so both are mid-download (not finishing, not
  // being committed) when the journal fails, about 3 s in.
  const demo = await startDemoServer({
    count: 3, size: (i) => (i === 0 ? 300_000 : 1_200_000), rateBytesPerSec: 200_000,
    faults: (_req, file) => void (file && settled && lateRequests.push(file.name)),
  });
  const dir = await tempDir();
  // The journal cannot be written once it has to record the settled size of a file that grew
  // (an I/O error, a disk gone read-only): that append is not inside the worker's download
  // try, so the worker itself throws. Every other fact is written as usual.
  const append = Journal.prototype.append;
  let sentAtFailure: number | undefined;
  Journal.prototype.append = function (this: Journal, fact, durable) {
    if (fact.t === 'size') {
      sentAtFailure ??= demo.bytesSent();
      return Promise.reject(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }));
    }
    return append.call(this, fact, durable);
  };
  try {
    const lateEvents: string[] = [];
    const summary = await runJob(jobOptions(demo.url, dir.path, { concurrency: 3, retries: 5 }), (event) => {
      if (settled) lateEvents.push(`${event.type} ${'name' in event ? event.name : ''} ${'state' in event ? event.state : ''}`);
      // Still being written when it was listed: a larger size on every request from now on,
      // the same one twice (3 s apart), so the job takes it and journals it. Its worker has
      // nothing else to do meanwhile (three files, three workers).
      if (event.type === 'listed') demo.replace('result_0001.mp4', sampleVideo(0, 400_000));
    });
    settled = true;
    const sentAtSettle = demo.bytesSent();
    assert.ok(sentAtFailure !== undefined, 'the grown file reached the journal (its size fact)');
    assert.equal(summary.ok, false);
    assert.equal(summary.error?.code, 'INTERNAL', JSON.stringify(summary));
    assert.match(summary.error?.message ?? '', /EIO/);
    // Long enough for a worker left running to come back from a retry delay (~0.4-1 s).
    await sleep(1500);
    assert.deepEqual(lateRequests, [], 'no download request after runJob settled');
    assert.equal(demo.bytesSent(), sentAtSettle, 'no byte sent after runJob settled');
    assert.deepEqual(lateEvents, [], 'no worker still at work (no event) after runJob settled');
    // The downloads in flight when the journal failed are stopped at once, not left to run out
    // the HTTP client's 1 s close grace (~200 KB each at this pace); a 16 KiB chunk per
    // connection may already be on its way. (The server runs in this process: a busy event
    // loop delays its sending as much as the job's stopping, so this is not a race on time.)
    const sentAfterFailure = sentAtSettle - sentAtFailure;
    assert.ok(sentAfterFailure < 128 * 1024, `the server sent ${sentAfterFailure} bytes after the journal failed`);
  } finally {
    Journal.prototype.append = append;
    await demo.close();
    await dir.remove();
  }
});

test('a local file whose copy cannot be opened: the job fails and the source file is not left open', { skip: process.platform !== 'linux' && 'reads /proc/self/fd' }, async () => {
  const dir = await tempDir();
  try {
    const source = join(dir.path, 'src');
    await mkdir(source);
    const file = join(source, 'a.mp4');
    await writeFile(file, Buffer.alloc(200_000, 1));
    const real = realpathSync(file);
    // The copy's part file cannot be opened for writing: a folder is in its place (root ignores
    // permissions, so an unwritable mode would not do).
    const part = join(dir.path, 'out', '.reelpack', 'files', '0.part');
    await mkdir(part, { recursive: true });
    assert.ok(!openPaths().includes(real));
    const summary = await runJob(jobOptions(source, dir.path, { retries: 0 }), () => {});
    assert.equal(summary.ok, false);
    assert.equal(summary.error?.code, 'WRITE_FAILED', JSON.stringify(summary));
    assert.match(summary.error?.message ?? '', /0\.part: EISDIR/, JSON.stringify(summary));
    assert.ok(!openPaths().includes(real), `${real} is still open after the job ended: ${openPaths().join(', ')}`);
  } finally {
    await dir.remove();
  }
});

test('a journal that cannot record a download\'s validator (an I/O error) stops the job as WRITE_FAILED, not retried as a network error', async () => {
  const demo = await startDemoServer({ count: 2, size: 400_000 });
  const dir = await tempDir();
  const append = Journal.prototype.append;
  let failures = 0;
  Journal.prototype.append = function (this: Journal, fact, durable) {
    if (fact.t === 'validator') {
      failures++;
      return Promise.reject(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }));
    }
    return append.call(this, fact, durable);
  };
  try {
    const summary = await runJob(jobOptions(demo.url, dir.path, { retries: 3 }), () => {});
    assert.equal(summary.error?.code, 'WRITE_FAILED', JSON.stringify(summary));
    assert.match(summary.error?.message ?? '', /EIO/);
    assert.ok(failures <= 2, `the journal was tried ${failures} times: the download was retried`);
  } finally {
    Journal.prototype.append = append;
    await demo.close();
    await dir.remove();
  }
});

test('volumes too small for the batch (the manifests would list more volumes than fit in one) are refused before the job is saved, so a rerun can choose a larger size', async () => {
  const dir = await tempDir();
  try {
    const source = join(dir.path, 'src');
    await mkdir(source);
    for (let i = 0; i < 20; i++) await writeFile(join(source, `clip-${i}.mp4`), Buffer.alloc(300_000, i));
    const options = jobOptions(source, dir.path, { mode: 'zip', zipName: 'set.zip', volumeSize: 64 * 1024 });
    const refused = await runJob(options, () => {});
    assert.equal(refused.error?.code, 'USAGE');
    assert.match(refused.error?.message ?? '', /^volume size 64k is too small for 5\.7 MB: about 92 volumes, and each one's manifest lists the volumes before it; use a volume size of at least 1m$/);
    assert.deepEqual(readdirSync(options.outDir).filter((name) => !name.startsWith('.')), [], 'nothing written');
    const warnings: string[] = [];
    const done = await runJob({ ...options, volumeSize: 1024 * 1024 }, (event) => void (event.type === 'warning' && warnings.push(event.message)));
    assert.equal(done.ok, true, JSON.stringify(done.error));
    assert.deepEqual(warnings.filter((w) => /earlier settings/.test(w)), [], 'a new job, not the refused one resumed');
    assert.ok(done.outputs.length > 1 && done.outputs.every((o) => o.size <= 1024 * 1024), JSON.stringify(done.outputs));
  } finally {
    await dir.remove();
  }
});

test('a dropped connection does not take the progress back to 0: the bytes in the part file stay counted, and the file\'s row resumes from them', async () => {
  let drops = 0;
  const demo = await startDemoServer({
    count: 1, size: 1_000_000, rateBytesPerSec: 2_000_000,
    // The first response breaks off after 600 KB; the retry resumes with a Range request.
    faults: (req, file) => (file && !req.headers.range && drops++ === 0 ? { kind: 'drop', afterBytes: 600_000 } : undefined),
  });
  const dir = await tempDir();
  try {
    const overall: number[] = [];
    const row: number[] = [];
    let retried = false;
    const summary = await runJob(jobOptions(demo.url, dir.path, { retries: 3 }), (event) => {
      if (event.type === 'file' && event.state === 'retrying') retried = true;
      if (retried && event.type === 'progress') overall.push(event.bytesDone);
      if (retried && event.type === 'file' && event.state === 'downloading') row.push(event.bytesDone ?? -1);
    });
    assert.equal(summary.ok, true, JSON.stringify(summary.error));
    assert.ok(retried, 'the connection was dropped and the file retried');
    assert.ok(overall.length > 0 && Math.min(...overall) >= 500_000, `progress after the drop: ${overall.join(', ')}`);
    assert.ok(row.length > 0 && row[0]! >= 500_000, `the row restarted at ${row[0]}`);
    assert.equal(overall.at(-1), 1_000_000);
    assert.ok(summary.networkBytes < 1_300_000, `resumed, not downloaded again: ${summary.networkBytes} bytes`);
  } finally {
    await dir.remove();
    await demo.close();
  }
});

test('a retry that must start from zero (a server with no ETag or Last-Modified) does not count the dropped attempt twice: progress never passes 100 %', async () => {
  const size = 4 * 1024 * 1024;
  const body = Buffer.alloc(size, 9);
  let requests = 0;
  const seen: string[] = [];
  const server = createServer((req, res) => {
    requests++;
    seen.push(`${req.method} ${req.headers.range ?? ''}`);
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': size }); // no validator: no resume
    // Paced (256 KiB every 40 ms), so progress is reported while the retry runs.
    const attempt = requests;
    void (async () => {
      for (let at = 0; at < size; at += 256 * 1024) {
        if (attempt === 1 && at >= size / 2) return void res.destroy();
        res.write(body.subarray(at, at + 256 * 1024));
        await sleep(40);
      }
      res.end();
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const dir = await tempDir();
  try {
    // A URL list: the server sees only the downloads (a URL given alone is looked at first).
    const list = join(dir.path, 'urls.txt');
    await writeFile(list, `http://127.0.0.1:${(server.address() as AddressInfo).port}/clip.mp4\n`);
    let most = 0;
    let mostRow = 0;
    const summary = await runJob(jobOptions(list, dir.path, { retries: 3 }), (event) => {
      if (event.type === 'progress') most = Math.max(most, event.bytesDone / Math.max(1, event.bytesTotal));
      if (event.type === 'file' && event.bytesDone !== undefined) mostRow = Math.max(mostRow, event.bytesDone);
    });
    assert.equal(summary.ok, true, JSON.stringify(summary.error));
    assert.equal(requests, 2, `dropped once, then fetched whole: ${seen.join(', ')}`);
    assert.ok(most <= 1, `progress reached ${(most * 100).toFixed(0)} %`);
    assert.ok(mostRow <= size, `the row reached ${mostRow} of ${size} bytes`);
  } finally {
    server.close();
    await dir.remove();
  }
});
