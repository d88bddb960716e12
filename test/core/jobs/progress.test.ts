// Progress when the listing has no sizes (URL lists): the total grows as responses state sizes,
// and nothing claims an ETA or a byte ratio it cannot know.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runJob } from '../../../electron/core/jobs/job-runner.ts';
import type { JobEvent } from '../../../electron/core/jobs/job-events.ts';
import { ProgressTracker, stalledAfterMs } from '../../../electron/core/jobs/progress-tracker.ts';
import { startDemoServer } from '../../servers/demo-server.ts';
import { tempDir } from '../../helpers/servers.ts';

test('no ETA while sizes are unknown; the total grows as sizes are learned', () => {
  const tracker = new ProgressTracker(0, 2, 2);
  tracker.addBytes(500, true);
  let event = tracker.event();
  assert.ok(event.type === 'progress');
  assert.equal(event.sizesKnown, false);
  assert.equal(event.etaSeconds, null, 'bytes left are unknown, not zero');
  tracker.sizeLearned(4000);
  tracker.sizeLearned(0); // the other file failed: nothing more is coming
  event = tracker.event();
  assert.ok(event.type === 'progress');
  assert.equal(event.sizesKnown, true);
  assert.equal(event.bytesTotal, 4000);
});

test('a URL list without sizes: listed as unsized, the job and archive totals are what the responses stated', async () => {
  const demo = await startDemoServer({ count: 3, size: 200_000, faults: (_req, file) => (file?.name === 'result_0002.mp4' ? { kind: 'status', status: 404 } : undefined) });
  const dir = await tempDir();
  try {
    const origin = new URL(demo.url).origin;
    const list = join(dir.path, 'list.txt');
    await writeFile(list, demo.files.map((f) => `${origin}/outputs/${encodeURIComponent(f.name)}\n`).join(''));
    const events: JobEvent[] = [];
    const out = join(dir.path, 'out');
    const summary = await runJob({
      source: list, outDir: out, mode: 'zip', concurrency: 2, stallTimeoutMs: 30_000, retries: 0, depth: 3,
      onlyNew: false, allowPartial: true, catalogDir: join(dir.path, 'catalog'),
    }, (e) => events.push(e));
    assert.equal(summary.files, 2, JSON.stringify(summary));
    const listed = events.find((e) => e.type === 'listed');
    assert.ok(listed?.type === 'listed');
    assert.equal(listed.unsizedFiles, 3);
    assert.equal(listed.bytes, 0);
    const progress = events.filter((e) => e.type === 'progress');
    const last = progress.at(-1);
    assert.ok(last?.type === 'progress');
    assert.equal(last.sizesKnown, true);
    const delivered = demo.files.filter((f) => f.name !== 'result_0002.mp4').reduce((s, f) => s + f.data.length, 0);
    assert.equal(last.bytesTotal, delivered, 'the 404 adds nothing; the others add what they stated');
    assert.equal(last.bytesDone, delivered);
    for (const p of progress) if (p.type === 'progress' && !p.sizesKnown) assert.equal(p.etaSeconds, null);
    const bundled = events.filter((e) => e.type === 'bundle' && e.state === 'done').at(-1);
    assert.ok(bundled?.type === 'bundle');
    assert.equal(bundled.bytesTotal, delivered, 'the archive progress counts learned sizes too');
    assert.equal(bundled.bytesDone, delivered);
  } finally {
    await demo.close();
    await dir.remove();
  }
});

test('bytes that stop arriving (the server went down) show speed 0 and no ETA within seconds, not a fading speed and hours left', () => {
  const tracker = new ProgressTracker(100_000_000, 10);
  const start = Date.now();
  for (let t = 0; t <= 4000; t += 250) {
    tracker.addBytes(1_000_000, true); // 4 MB/s
    const event = tracker.event(start + t);
    assert.ok(event.type === 'progress');
    if (t >= 1000) assert.ok(event.speed > 3_000_000 && event.etaSeconds !== null && event.etaSeconds < 60, JSON.stringify(event));
  }
  const shown: Array<{ speed: number; eta: number | null }> = [];
  for (let t = 4250; t <= 8000; t += 250) {
    const event = tracker.event(start + t); // nothing arrives
    assert.ok(event.type === 'progress');
    shown.push({ speed: event.speed, eta: event.etaSeconds });
  }
  const settled = shown.slice(Math.ceil(stalledAfterMs / 250));
  assert.ok(settled.length > 0);
  for (const s of settled) assert.deepEqual(s, { speed: 0, eta: null });
  for (const s of shown) assert.ok(s.eta === null || s.eta < 120, `showed ${s.eta} s left while nothing arrived`);
  tracker.addBytes(1_000_000, true);
  const back = tracker.event(start + 8250);
  assert.ok(back.type === 'progress' && back.speed > 0 && back.etaSeconds !== null, 'bytes again: a speed again');
});
