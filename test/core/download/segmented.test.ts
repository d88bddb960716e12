// Segmented downloads: one large file over several connections, resumed range by range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runJob } from '../../../electron/core/jobs/job-runner.ts';
import type { JobOptions } from '../../../electron/core/jobs/job-runner.ts';
import type { JobEvent } from '../../../electron/core/jobs/job-events.ts';
import { readJournal } from '../../../electron/core/jobs/journal.ts';
import { fastConnectionBytesPerSec, maybeSplit } from '../../../electron/core/download/segmented-download.ts';
import type { SegmentPlan } from '../../../electron/core/download/segmented-download.ts';
import { startDemoServer } from '../../servers/demo-server.ts';
import type { DemoServerOptions } from '../../servers/demo-server.ts';
import { tempDir } from '../../helpers/servers.ts';

const size = 5 * 1024 * 1024 + 12345;

function options(source: string, dir: string, extra: Partial<JobOptions> = {}): JobOptions {
  return {
    source, outDir: join(dir, 'out'), mode: 'folder', concurrency: 1, stallTimeoutMs: 10_000, retries: 3, depth: 1,
    onlyNew: false, allowPartial: false, catalogDir: join(dir, 'home'), segments: 4, segmentMinBytes: 1024 * 1024, ...extra,
  };
}

test('a large file on a slow connection is split into 4 ranges on 4 connections and verified', async () => {
  const log: NonNullable<DemoServerOptions['log']> = [];
  const size = 12 * 1024 * 1024 + 777;
  const demo = await startDemoServer({ count: 1, size, log, rateBytesPerSec: 2_000_000 }); // per connection
  const dir = await tempDir();
  try {
    const started = Date.now();
    const summary = await runJob(options(demo.url, dir.path), () => {});
    const seconds = (Date.now() - started) / 1000;
    assert.equal(summary.ok, true, JSON.stringify(summary));
    assert.ok((await readFile(join(dir.path, 'out', 'result_0001.mp4'))).equals(demo.files[0]!.data));
    const ranges = log.filter((l) => l.url.startsWith('/outputs/')).map((l) => l.range ?? '');
    assert.equal(ranges.length, 4, JSON.stringify(ranges));
    assert.equal(ranges[0], `bytes=0-${size - 1}`, 'it starts with one connection for the whole file');
    assert.ok(ranges.every((r) => /^bytes=\d+-\d+$/.test(r)), JSON.stringify(ranges));
    // One connection would take 6.3 s; four, after the quarter-second probe, about 2 s.
    assert.ok(seconds < 4.5, `split download took ${seconds} s`);
    // The first connection is dropped at its new end; only what was in flight is sent twice.
    assert.ok(demo.bytesSent() < size + 1024 * 1024, `sent ${demo.bytesSent() - size} bytes more than the file`);
  } finally {
    await demo.close();
    await dir.remove();
  }
});

test('a large file that arrives fast stays on one connection', async () => {
  const log: NonNullable<DemoServerOptions['log']> = [];
  const demo = await startDemoServer({ count: 1, size, log });
  const dir = await tempDir();
  try {
    const summary = await runJob(options(demo.url, dir.path), () => {});
    assert.equal(summary.ok, true, JSON.stringify(summary));
    assert.ok((await readFile(join(dir.path, 'out', 'result_0001.mp4'))).equals(demo.files[0]!.data));
    const ranges = log.filter((l) => l.url.startsWith('/outputs/')).map((l) => l.range ?? '');
    assert.deepEqual(ranges, [`bytes=0-${size - 1}`]);
  } finally {
    await demo.close();
    await dir.remove();
  }
});

test('maybeSplit cuts the range with most left, beyond what its connection received, only when slow', () => {
  const mib = 1024 * 1024;
  const plan = (): SegmentPlan => ({ validator: {}, ranges: [{ start: 0, end: 100 * mib - 1, pos: 10 * mib }] });
  const fast = plan();
  assert.deepEqual(maybeSplit(fast, new Map(), 4, 100 * mib), [], '91 MiB at 100 MiB/s: under 2 s, not worth it');
  const huge = (): SegmentPlan => ({ validator: {}, ranges: [{ start: 0, end: 4096 * mib - 1, pos: 10 * mib }] });
  assert.deepEqual(maybeSplit(huge(), new Map(), 4, fastConnectionBytesPerSec), [], 'one connection at 1 Gbit/s: more would not help, however long the rest takes');
  assert.equal(maybeSplit(huge(), new Map(), 4, fastConnectionBytesPerSec - 1).length, 3, 'just below it, a long rest is split');
  const tail: SegmentPlan = { validator: {}, ranges: [0, 1, 2, 3].map((k) => ({ start: k * 1024 * mib, end: (k + 1) * 1024 * mib - 1, pos: k === 3 ? 3 * 1024 * mib + mib : (k + 1) * 1024 * mib })) };
  assert.equal(maybeSplit(tail, new Map(), 4, 2 * fastConnectionBytesPerSec).length, 3, 'three of four ranges done early: their connections take over the last, however fast the average was');
  const slow = plan();
  const added = maybeSplit(slow, new Map(), 4, 10 * mib);
  assert.equal(added.length, 3);
  assert.equal(slow.ranges.length, 4);
  assert.equal(slow.ranges[0]!.start, 0);
  assert.ok(slow.ranges[0]!.end >= 11 * mib, 'the cut leaves a margin beyond the received bytes');
  for (let i = 1; i < 4; i++) {
    assert.equal(slow.ranges[i]!.start, slow.ranges[i - 1]!.end + 1, 'contiguous');
    assert.equal(slow.ranges[i]!.pos, slow.ranges[i]!.start);
  }
  assert.equal(slow.ranges[3]!.end, 100 * mib - 1, 'covers the file to its end');
  assert.deepEqual(maybeSplit(slow, new Map(), 4, 1), [], 'never more than `segments` unfinished ranges');
  slow.ranges[1]!.pos = slow.ranges[1]!.end + 1; // one range finished early: its connection takes over part of another
  const stolen = maybeSplit(slow, new Map(), 4, 1);
  assert.equal(stolen.length, 1);
  assert.equal(slow.ranges.length, 5);
  for (let i = 1; i < 5; i++) assert.equal(slow.ranges[i]!.start, slow.ranges[i - 1]!.end + 1, 'still contiguous');
});

test('when one range fails for good, the other ranges stop at once instead of running to their ends', async () => {
  const size = 12 * 1024 * 1024;
  // The split ranges are refused (404, not retried); the first range is then 1/4 of the file.
  const demo = await startDemoServer({
    count: 1, size, rateBytesPerSec: 2_000_000,
    faults: (req) => (/^bytes=[1-9]/.test(req.headers.range ?? '') ? { kind: 'status', status: 404 } : undefined),
  });
  const dir = await tempDir();
  try {
    const summary = await runJob(options(demo.url, dir.path), () => {});
    assert.equal(summary.ok, false);
    assert.match(summary.failed[0]?.reason ?? '', /HTTP 404/, JSON.stringify(summary));
    // Split after ~0.5 MB; running on to its new end would have sent about 3.4 MB.
    assert.ok(demo.bytesSent() < 1_500_000, `the first range went on after the failure: ${demo.bytesSent()} bytes sent`);
  } finally {
    await demo.close();
    await dir.remove();
  }
});

test('cancelled mid-way, the next run resumes every range where it stopped', async () => {
  const log: NonNullable<DemoServerOptions['log']> = [];
  const demo = await startDemoServer({ count: 1, size, log, rateBytesPerSec: 300_000 });
  const dir = await tempDir();
  try {
    const stop = new AbortController();
    const first = runJob(options(demo.url, dir.path), () => {}, stop.signal);
    while (demo.bytesSent() < size / 2) await sleep(20);
    await sleep(1200); // let a checkpoint land
    stop.abort();
    assert.equal((await first).error?.code, 'CANCELLED');
    const saved = await readJournal(join(dir.path, 'out', '.reelpack'));
    const plan = saved?.segments.get(0);
    assert.ok(plan && plan.ranges.every((r) => r.pos > r.start), `every range made progress: ${JSON.stringify(plan?.ranges)}`);
    const before = log.length;
    const sentBefore = demo.bytesSent();
    const second = await runJob(options(demo.url, dir.path), () => {});
    assert.equal(second.ok, true, JSON.stringify(second));
    assert.ok((await readFile(join(dir.path, 'out', 'result_0001.mp4'))).equals(demo.files[0]!.data));
    const resumed = log.slice(before).map((l) => l.range ?? '');
    plan!.ranges.forEach((r, k) => assert.ok(resumed.some((x) => x.startsWith(`bytes=${r.pos}-`)) || r.pos > r.end, `range ${k} resumed at ${r.pos}`));
    assert.ok(sentBefore + (demo.bytesSent() - sentBefore) < size * 1.5, 'most bytes fetched once');
  } finally {
    await demo.close();
    await dir.remove();
  }
});

test('a server that ignores Range falls back to one stream and still delivers the right bytes', async () => {
  const demo = await startDemoServer({ count: 1, size, faults: () => ({ kind: 'ignore-range' }) });
  const dir = await tempDir();
  const events: JobEvent[] = [];
  try {
    const summary = await runJob(options(demo.url, dir.path), (e) => events.push(e));
    assert.equal(summary.ok, true, JSON.stringify(summary));
    assert.ok((await readFile(join(dir.path, 'out', 'result_0001.mp4'))).equals(demo.files[0]!.data));
    assert.ok(events.some((e) => e.type === 'warning' && /one stream/.test(e.message)));
  } finally {
    await demo.close();
    await dir.remove();
  }
});

test('a server that sends no validator: a stopped segmented download starts over, never splicing the file regenerated since', async () => {
  let body = Buffer.alloc(size, 0x41);
  // Ranges, but no ETag and no Last-Modified; paced so that the first run is stopped mid-way.
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/api/results')) {
      // A listing with the size (segments need it) and no sha256 (that would catch a splice).
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: [{ id: 'clip', name: 'clip.mp4', url: '/clip.mp4', size }], page: 1, page_size: 20, total: 1 }));
      return;
    }
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    const [start, end] = m ? [Number(m[1]), Math.min(Number(m[2]), size - 1)] : [0, size - 1];
    res.writeHead(m ? 206 : 200, { 'content-type': 'video/mp4', 'accept-ranges': 'bytes', 'content-length': end - start + 1, ...(m ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}) });
    const slice = body.subarray(start, end + 1);
    let at = 0;
    const timer = setInterval(() => {
      if (at >= slice.length || res.destroyed) {
        clearInterval(timer);
        res.end();
        return;
      }
      res.write(slice.subarray(at, at + 64 * 1024));
      at += 64 * 1024;
    }, 20);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dir = await tempDir();
  try {
    const source = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const stop = new AbortController();
    const first = runJob(options(source, dir.path), (e) => {
      if (e.type === 'progress' && e.bytesDone > size / 3) stop.abort();
    }, stop.signal);
    assert.equal((await first).error?.code, 'CANCELLED');
    body = Buffer.alloc(size, 0x42); // regenerated at the same size
    const plan = (await readJournal(join(dir.path, 'out', '.reelpack')))?.segments.get(0);
    assert.ok(plan && plan.ranges.some((r) => r.pos > r.start), `a segmented plan with progress was saved: ${JSON.stringify(plan)}`);
    const second = await runJob(options(source, dir.path), () => {});
    assert.equal(second.ok, true, JSON.stringify(second));
    const got = await readFile(join(dir.path, 'out', 'clip.mp4'));
    assert.ok(got.equals(body), `${got.indexOf(0x41) === -1 ? 'new' : 'spliced'} bytes`);
  } finally {
    server.close();
    await dir.remove();
  }
});
