// Downloads against a server that misbehaves on purpose: every file must end byte-identical
// to the source, or be reported failed with a clear reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { runJob } from '../../../electron/core/jobs/job-runner.ts';
import { downloadAttempt } from '../../../electron/core/download/file-download.ts';
import { HttpClient } from '../../../electron/core/download/http-client.ts';
import type { JobOptions } from '../../../electron/core/jobs/job-runner.ts';
import type { JobEvent } from '../../../electron/core/jobs/job-events.ts';
import { sampleVideo, startDemoServer } from '../../servers/demo-server.ts';
import type { DemoServer, DemoServerOptions, Fault } from '../../servers/demo-server.ts';
import { freePort, tempDir } from '../../helpers/servers.ts';

function jobOptions(source: string, outDir: string, extra: Partial<JobOptions> = {}): JobOptions {
  return {
    source, outDir, mode: 'folder', concurrency: 3, stallTimeoutMs: 30_000, retries: 5, depth: 3,
    onlyNew: false, allowPartial: false, catalogDir: join(outDir, '..', 'catalog'), ...extra,
  };
}

/** Runs a folder-mode job against a demo server whose requests for file #1 get `faultFor(n)` on the n-th GET. */
async function withFaults(
  faultFor: (n: number, name: string, demo: DemoServer) => Fault | undefined,
  serverOptions: DemoServerOptions = {},
  extra: Partial<JobOptions> = {},
  sourceOf: (url: string) => string = (url) => url,
) {
  const log: NonNullable<DemoServerOptions['log']> = [];
  const counts = new Map<string, number>();
  const ref: { demo?: DemoServer } = {};
  const demo: DemoServer = await startDemoServer({
    count: 3, size: 300_000, log, ...serverOptions,
    faults: (req, file) => {
      if (!file || req.method !== 'GET') return undefined;
      const n = (counts.get(file.name) ?? 0) + 1;
      counts.set(file.name, n);
      return file.name === 'result_0001.mp4' ? faultFor(n, file.name, ref.demo!) : undefined;
    },
  });
  ref.demo = demo;
  const dir = await tempDir();
  const events: JobEvent[] = [];
  const out = join(dir.path, 'out');
  try {
    const source = sourceOf(demo.url);
    if (source !== demo.url) await writeFile(join(dir.path, 'list.txt'), source);
    const summary = await runJob(jobOptions(source === demo.url ? demo.url : join(dir.path, 'list.txt'), out, extra), (e) => events.push(e));
    const files = await Promise.all(demo.files.map((f) => readFile(join(out, f.name)).catch(() => null)));
    return { summary, events, files, demo, log: log.filter((l) => l.url.includes('result_0001')), out };
  } finally {
    await demo.close();
    await dir.remove();
  }
}

function assertAllIdentical(result: Awaited<ReturnType<typeof withFaults>>) {
  assert.equal(result.summary.ok, true, JSON.stringify(result.summary));
  result.demo.files.forEach((f, i) => assert.ok(result.files[i]?.equals(f.data), `${f.name} differs from the source`));
}

test('a dropped connection resumes with Range + If-Range from where it stopped', async () => {
  const result = await withFaults((n) => (n === 1 ? { kind: 'drop', afterBytes: 100_000 } : undefined));
  assertAllIdentical(result);
  const [first, second] = result.log;
  assert.equal(first?.range, undefined);
  assert.match(second?.range ?? '', /^bytes=\d+-$/);
  assert.ok(Number(second!.range!.slice(6, -1)) > 0, 'resumed from a non-zero offset');
  assert.equal(second?.ifRange, result.demo.files[0]!.etag);
  assert.equal(second?.status, 206);
});

test('a 200 answer to a Range request restarts the file instead of appending', async () => {
  const result = await withFaults((n) => (n === 1 ? { kind: 'drop', afterBytes: 100_000 } : n === 2 ? { kind: 'ignore-range' } : undefined));
  assertAllIdentical(result);
  assert.equal(result.log[1]?.status, 200);
  assert.equal(result.log.length, 2);
});

test('If-Range with a changed file: the new file is fetched whole, never spliced', async () => {
  const replacement = sampleVideo(99, 300_000);
  // No sha256 in a URL list: only If-Range protects against splicing here.
  const result = await withFaults(
    (n, name, demo) => {
      if (n === 1) return { kind: 'drop', afterBytes: 120_000 };
      if (n === 2) demo.replace(name, replacement);
      return undefined;
    },
    {},
    {},
    (url) => `${url}/outputs/result_0001.mp4\n${url}/outputs/result_0002.mp4\n`,
  );
  assert.equal(result.summary.ok, true, JSON.stringify(result.summary));
  assert.equal(result.log[1]?.status, 200, 'server saw a stale If-Range and sent the whole new file');
  assert.ok(result.files[0]?.equals(replacement), 'file is exactly the new version');
});

test('a server that ignores If-Range and sends a changed file\'s tail: the tail is refused and the new file fetched whole', async () => {
  const replacement = sampleVideo(98, 300_000);
  const result = await withFaults(
    (n, name, demo) => {
      if (n === 1) return { kind: 'drop', afterBytes: 120_000 };
      if (n === 2) {
        demo.replace(name, replacement);
        return { kind: 'ignore-if-range' };
      }
      return undefined;
    },
    {},
    {},
    (url) => `${url}/outputs/result_0001.mp4\n${url}/outputs/result_0002.mp4\n`, // no sha256 to catch it later
  );
  assert.equal(result.summary.ok, true, JSON.stringify(result.summary));
  assert.equal(result.log[1]?.status, 206, 'the server spliced: a 206 with the new version\'s ETag');
  assert.equal(result.log[2]?.range, undefined, 'then from zero');
  assert.ok(result.files[0]?.equals(replacement), 'the file is exactly the new version, not old head + new tail');
});

test('a file sent gzipped (Content-Encoding) is refused with a clear reason, never saved as the video', async () => {
  const result = await withFaults(() => ({ kind: 'gzip' }), {}, { retries: 1 });
  assert.equal(result.summary.ok, false);
  assert.deepEqual(result.summary.failed.map((f) => f.name), ['result_0001.mp4']);
  assert.match(result.summary.failed[0]!.reason, /content-coded \(Content-Encoding: gzip\)/);
  assert.equal(result.files[0], null, 'nothing under the final name');
  result.demo.files.slice(1).forEach((f, i) => assert.ok(result.files[i + 1]?.equals(f.data), `${f.name} is intact`));
});

test('a stalled body is abandoned after --stall-timeout and resumed', async () => {
  const result = await withFaults((n) => (n === 1 ? { kind: 'stall', afterBytes: 50_000 } : undefined), {}, { stallTimeoutMs: 700 });
  assertAllIdentical(result);
  assert.equal(result.log.length, 2);
  assert.match(result.log[1]?.range ?? '', /^bytes=\d+-$/);
  const retrying = result.events.find((e) => e.type === 'file' && e.state === 'retrying');
  assert.ok(retrying && retrying.type === 'file' && /stalled/.test(retrying.reason ?? ''), JSON.stringify(retrying));
});

test('503 with Retry-After is honoured, 404 is not retried', async () => {
  const started = Date.now();
  const result = await withFaults((n) => (n <= 2 ? { kind: 'status', status: 503, retryAfter: '1' } : undefined));
  assertAllIdentical(result);
  assert.ok(Date.now() - started >= 2000, 'waited the two Retry-After seconds');
  const retry = result.events.find((e) => e.type === 'file' && e.state === 'retrying');
  assert.equal(retry?.type === 'file' ? retry.retryInMs : 0, 1000);

  const gone = await withFaults(() => ({ kind: 'status', status: 404 }));
  assert.equal(gone.summary.ok, false);
  assert.equal(gone.log.length, 1, 'a 404 is permanent');
  assert.deepEqual(gone.summary.failed.map((f) => f.name), ['result_0001.mp4']);
  assert.match(gone.summary.failed[0]!.reason, /HTTP 404/);
  assert.ok(gone.files[1]?.equals(gone.demo.files[1]!.data), 'the other files are kept');
});

test('a checksum mismatch re-downloads once, then fails that file with a clear reason', async () => {
  const result = await withFaults(() => undefined, { lieSha256: (f) => (f.name === 'result_0001.mp4' ? '0'.repeat(64) : undefined) });
  assert.equal(result.summary.ok, false);
  assert.equal(result.log.length, 2, `downloaded twice: ${JSON.stringify(result.log)} ${JSON.stringify(result.events.filter((e) => e.type === "file" && e.name === "result_0001.mp4"))}`);
  assert.match(result.summary.failed[0]?.reason ?? '', /SHA-256 mismatch/);
  assert.equal(result.files[0], null, 'no file with a bad checksum is left under its final name');
  assert.ok(result.files[2]?.equals(result.demo.files[2]!.data));
});

test('a body shorter than its Content-Length is resumed, never accepted', async () => {
  const result = await withFaults((n) => (n <= 2 ? { kind: 'short', bytes: 10_000 } : undefined));
  assertAllIdentical(result);
  assert.ok(result.log.length >= 3);
});

test('redirect loops and redirects to other schemes fail clearly', async () => {
  const loop = await withFaults(() => ({ kind: 'redirect', location: '/outputs/result_0001.mp4' }));
  assert.match(loop.summary.failed[0]?.reason ?? '', /redirect loop/);
  const ftp = await withFaults(() => ({ kind: 'redirect', location: 'file:///etc/passwd' }));
  assert.match(ftp.summary.failed[0]?.reason ?? '', /non-http URL/);
  assert.equal(ftp.log.length, 1, 'not retried');
});

test('a 200 answer to a Range request empties the part before its new validator is recorded', async () => {
  // kill -9 between the two must never leave old bytes under the new validator: a resume
  // would then splice the new file onto them.
  const demo = await startDemoServer({ count: 1, size: 300_000, faults: () => ({ kind: 'ignore-range' }) });
  const dir = await tempDir();
  const http = new HttpClient({ stallTimeoutMs: 10_000 });
  try {
    const partPath = join(dir.path, 'f.part');
    await writeFile(partPath, Buffer.alloc(100_000, 0x78)); // a prefix fetched under an older version
    const sizesWhenRecorded: number[] = [];
    const result = await downloadAttempt({ url: `${demo.url}/outputs/result_0001.mp4`, partPath }, {
      http, validator: { etag: '"older"' }, onBytes: () => {},
      onValidator: async () => void sizesWhenRecorded.push((await stat(partPath)).size),
    });
    assert.deepEqual(sizesWhenRecorded, [0]);
    assert.ok((await readFile(partPath)).equals(demo.files[0]!.data));
    assert.equal(result.sha256, demo.files[0]!.sha256);
  } finally {
    await http.close();
    await demo.close();
    await dir.remove();
  }
});

test('a server that is down (connection refused) is waited for, not failed after a few retries; the wait is bounded', async () => {
  const port = await freePort(); // nothing listens there: connections are refused
  const body = sampleVideo(7, 200_000);
  const dir = await tempDir();
  const list = join(dir.path, 'list.txt');
  await writeFile(list, `http://127.0.0.1:${port}/clip.mp4\n`);
  let server: Server | undefined;
  try {
    // Down for good, with no patience: the old behaviour, a failure after --retries.
    const gaveUp = await runJob(jobOptions(list, join(dir.path, 'out0'), { retries: 1, serverDownPatienceMs: 0 }), () => {});
    assert.equal(gaveUp.ok, false);
    assert.match(gaveUp.failed[0]!.reason, /cannot reach the server \(ECONNREFUSED\)/);
    // --retries 0 asks for no second try: no waiting either.
    const noRetry = await runJob(jobOptions(list, join(dir.path, 'out00'), { retries: 0, serverDownPatienceMs: 60_000 }), () => {});
    assert.equal(noRetry.ok, false);
    // Down for ~2.5 s (more than --retries 1 lasts), then back: the file arrives.
    setTimeout(() => {
      server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': body.length }).end(body));
      server.listen(port, '127.0.0.1');
    }, 2500);
    const events: JobEvent[] = [];
    const summary = await runJob(jobOptions(list, join(dir.path, 'out1'), { retries: 1, serverDownPatienceMs: 60_000 }), (e) => events.push(e));
    assert.equal(summary.ok, true, JSON.stringify(summary));
    assert.ok((await readFile(join(dir.path, 'out1', 'clip.mp4'))).equals(body));
    assert.ok(events.filter((e) => e.type === 'file' && e.state === 'retrying').length >= 2, 'it retried while the server was down');
  } finally {
    server?.close();
    await dir.remove();
  }
});

test('when a server that was down answers again, the files waiting for it are retried at once, not after their backoff', async () => {
  let down = true;
  // A proxy in front of a restarting server: 503 without Retry-After for every file (the listing works).
  const demo = await startDemoServer({ count: 5, size: 100_000, faults: (_req, file) => (down && file ? { kind: 'status', status: 503 } : undefined) });
  const dir = await tempDir();
  try {
    const events: JobEvent[] = [];
    // Down long enough for each file's backoff to reach seconds; one download at a time, so the
    // other four are all waiting when the first gets through.
    setTimeout(() => (down = false), 3500);
    const summary = await runJob(jobOptions(demo.url, join(dir.path, 'out'), { concurrency: 1, retries: 1, serverDownPatienceMs: 60_000 }), (e) => events.push(e));
    assert.equal(summary.ok, true, JSON.stringify(summary));
    const fileEvents = events.filter((e) => e.type === 'file');
    const firstVerified = fileEvents.findIndex((e) => e.state === 'verified');
    const retried = new Set<string>();
    const woken = new Set<string>();
    for (const e of fileEvents.slice(0, firstVerified + 1)) {
      if (e.state === 'retrying') retried.add(e.name);
      if (e.state === 'queued' && retried.has(e.name)) woken.add(e.name); // not the queued event every file starts with
    }
    assert.equal(woken.size, 4, `the four others are queued again as soon as the first one's bytes arrive: ${[...woken].join(', ')}`);
    for (const name of woken) {
      const own = fileEvents.filter((e) => e.name === name).map((e) => e.state);
      assert.deepEqual(own.slice(own.lastIndexOf('retrying') + 1), ['queued', 'downloading', 'saving', 'verified'], `${name}: ${own.join(' ')}`);
      assert.ok(fileEvents.some((e) => e.name === name && e.state === 'retrying' && e.waitingForServer), `${name} was waiting for the server`);
    }
  } finally {
    await demo.close();
    await dir.remove();
  }
});

test('a resumed job whose server then sends the whole file again never shows more than the total', async () => {
  let ignoreRange = false;
  const demo = await startDemoServer({ count: 1, size: 4 * 1024 * 1024, rateBytesPerSec: 2 * 1024 * 1024, faults: () => (ignoreRange ? { kind: 'ignore-range' } : undefined) });
  const dir = await tempDir();
  const out = join(dir.path, 'out');
  try {
    const first = new AbortController();
    await runJob(jobOptions(demo.url, out), (e) => {
      if (e.type === 'progress' && e.bytesDone > 1.5 * 1024 * 1024) first.abort(); // paused with a kept part
    }, first.signal);
    ignoreRange = true;
    const shown: Array<{ done: number; total: number }> = [];
    const summary = await runJob(jobOptions(demo.url, out), (e) => {
      if (e.type === 'progress') shown.push({ done: e.bytesDone, total: e.bytesTotal });
    });
    assert.equal(summary.ok, true, JSON.stringify(summary));
    for (const s of shown) assert.ok(s.done <= s.total, `showed ${s.done} of ${s.total}`);
    assert.equal(shown.at(-1)!.done, 4 * 1024 * 1024);
    assert.ok((await readFile(join(out, 'result_0001.mp4'))).equals(demo.files[0]!.data));
  } finally {
    await demo.close();
    await dir.remove();
  }
});
