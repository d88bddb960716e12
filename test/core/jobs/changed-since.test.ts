// Files that are not what an earlier look said, and must not block a job for good: a file done
// by an earlier run whose bytes are gone before its archive is built (a finished volume the
// user deleted or moved, a loose file moved in both mode) is downloaded again; a local file
// that grew after the listing is taken at its settled size, in the totals too; one rewritten
// between runs is read again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyArchive } from '../../../electron/core/bundle/verify-archive.ts';
import { runJob } from '../../../electron/core/jobs/job-runner.ts';
import type { JobEvent } from '../../../electron/core/jobs/job-events.ts';
import { startDemoServer } from '../../servers/demo-server.ts';
import { jobOptions } from '../../helpers/job-options.ts';
import { tempDir } from '../../helpers/servers.ts';
import { checkWithAllReaders, readWithYauzl } from '../bundle/bundle-test-kit.ts';

async function withBrokenLastFile(run: (demo: Awaited<ReturnType<typeof startDemoServer>>, fix: () => void) => Promise<void>): Promise<void> {
  let broken = true;
  // The last result answers 404 on the first run, so that run stops before the last archive;
  // paced, so that the archive keeps up and finishes volumes while files still download.
  const demo = await startDemoServer({ count: 8, size: 300 * 1024, rateBytesPerSec: 2_000_000, faults: (_req, file) => (broken && file?.name === 'result_0008.mp4' ? { kind: 'status', status: 404 } : undefined) });
  try {
    await run(demo, () => (broken = false));
  } finally {
    await demo.close();
  }
}

test('a finished volume deleted before the job finishes: a rerun downloads its files again and completes the set', async () => {
  await withBrokenLastFile(async (demo, fix) => {
    const dir = await tempDir();
    try {
      const out = join(dir.path, 'out');
      const options = jobOptions(demo.url, dir.path, { mode: 'zip', zipName: 'set', volumeSize: 1024 * 1024, concurrency: 1, retries: 0 });
      const first = await runJob(options, () => {});
      assert.equal(first.ok, false);
      assert.ok((await readdir(out)).includes('set.part1.zip'), `the first run finished a volume: ${(await readdir(out)).join(', ')}`);
      await rm(join(out, 'set.part1.zip')); // the user moved it off a full disk
      fix();
      const warnings: string[] = [];
      const second = await runJob(options, (e: JobEvent) => void (e.type === 'warning' && warnings.push(e.message)));
      assert.equal(second.ok, true, JSON.stringify(second));
      assert.ok(warnings.some((w) => /the copy saved earlier is gone .*downloading it again/.test(w)), warnings.join('\n'));
      // Every file is in the set again, byte for byte.
      const volumes = (await readdir(out)).filter((f) => /^set\.part\d+\.zip$/.test(f)).sort();
      assert.deepEqual(second.outputs.map((o) => o.path.split('/').pop()).sort(), volumes, 'every volume is reported');
      const names = new Map<string, string>();
      for (const volume of volumes) for (const [name, entry] of await readWithYauzl(join(out, volume))) if (name.endsWith('.mp4')) names.set(name, entry.sha256);
      assert.deepEqual([...names.keys()].sort(), demo.files.map((f) => f.name).sort());
      for (const file of demo.files) assert.equal(names.get(file.name), file.sha256, file.name);
    } finally {
      await dir.remove();
    }
  });
});

test('both mode: a loose file moved away before the archive is built is downloaded again, and the archive is whole', async () => {
  await withBrokenLastFile(async (demo, fix) => {
    const dir = await tempDir();
    try {
      const out = join(dir.path, 'out');
      const options = jobOptions(demo.url, dir.path, { mode: 'both', zipName: 'all', concurrency: 2, retries: 0 });
      const first = await runJob(options, () => {});
      assert.equal(first.ok, false);
      await rename(join(out, 'result_0002.mp4'), join(dir.path, 'moved.mp4'));
      fix();
      const second = await runJob(options, () => {});
      assert.equal(second.ok, true, JSON.stringify(second));
      await checkWithAllReaders(join(out, 'all.zip'), demo.files.map((f) => ({ name: f.name, size: f.data.length, sha256: f.sha256 })));
      assert.ok((await readdir(out)).includes('result_0002.mp4'), 'the loose copy is back');
    } finally {
      await dir.remove();
    }
  });
});

test('a local file that grew after the listing and then settled is taken at its new size (not failed on every run), in the job\'s total and the archive\'s', async () => {
  const dir = await tempDir();
  try {
    const source = join(dir.path, 'src');
    await mkdir(source);
    await writeFile(join(source, 'a.mp4'), Buffer.alloc(100_000, 1));
    await writeFile(join(source, 'b.mp4'), Buffer.alloc(100_000, 2));
    const events: JobEvent[] = [];
    const summary = await runJob(jobOptions(source, dir.path, { mode: 'zip', zipName: 'set' }), (event) => {
      events.push(event);
      // Still being written when the job listed it: it grows, then stays at its final size.
      if (event.type === 'listed') appendFileSync(join(source, 'b.mp4'), Buffer.alloc(50_000, 3));
    });
    assert.equal(summary.ok, true, JSON.stringify(summary));
    assert.equal(summary.bytes, 250_000);
    const listed = events.find((e) => e.type === 'listed');
    assert.equal(listed?.type === 'listed' && listed.bytes, 200_000, 'the listing saw the old size');
    const progress = events.filter((e) => e.type === 'progress');
    assert.deepEqual(progress.map((e) => e.bytesTotal).slice(-1), [250_000], 'the job\'s last progress total');
    assert.equal(progress.at(-1)?.bytesDone, 250_000);
    // The archive's progress: its total is the new size too, and never below what it wrote.
    const bundle = events.filter((e) => e.type === 'bundle' && e.bytesTotal !== undefined);
    const done = bundle.filter((e) => e.type === 'bundle' && e.state === 'done');
    assert.equal(done.length, 1, JSON.stringify(bundle));
    assert.deepEqual(done.map((e) => e.type === 'bundle' && [e.bytesDone, e.bytesTotal]), [[250_000, 250_000]], 'the archive\'s total');
    for (const e of bundle) if (e.type === 'bundle') assert.ok(e.bytesDone! <= e.bytesTotal!, `archive progress ${e.bytesDone} of ${e.bytesTotal}`);
    const entries = await readWithYauzl(join(dir.path, 'out', 'set.zip'));
    assert.equal(entries.get('b.mp4')?.size, 150_000);
  } finally {
    await dir.remove();
  }
});

test('a result regenerated while the job was stopped is checked against what the server says now, not the first listing', async () => {
  const demo = await startDemoServer({ count: 3, size: 400_000, rateBytesPerSec: 800_000 });
  const dir = await tempDir();
  try {
    const out = join(dir.path, 'out');
    const options = jobOptions(demo.url, dir.path, { mode: 'zip', zipName: 'all', concurrency: 1, retries: 1 });
    const stop = new AbortController();
    const first = await runJob(options, (e) => void (e.type === 'file' && e.state === 'verified' && stop.abort()), stop.signal);
    assert.equal(first.error?.code, 'CANCELLED');
    demo.replace('result_0003.mp4', Buffer.alloc(500_000, 7)); // a new SHA-256 and size in the listing
    const warnings: string[] = [];
    const second = await runJob({ ...options, zipName: 'other' }, (e) => void (e.type === 'warning' && warnings.push(e.message)));
    assert.equal(second.ok, true, JSON.stringify(second));
    // No archive was finished before the stop: the new name is taken (and said so).
    assert.ok(warnings.some((w) => /goes on with --zip other \(no archive of it was finished yet\)/.test(w)), warnings.join('\n'));
    assert.deepEqual((await readdir(out)).filter((name) => name.includes('.zip')), ['other.zip']);
    await checkWithAllReaders(join(out, 'other.zip'), demo.files.map((f) => ({ name: f.name, size: f.data.length, sha256: f.sha256 })));
  } finally {
    await demo.close();
    await dir.remove();
  }
});

test('--out inside a local source folder: reruns never take in their own archives or copies; --out the folder itself is refused', async () => {
  const dir = await tempDir();
  try {
    const base = { concurrency: 1, stallTimeoutMs: 5000, retries: 0, depth: 3, onlyNew: false, allowPartial: false, catalogDir: join(dir.path, 'catalog') };
    for (const [mode, sub] of [['zip', 'zips'], ['folder', 'copy']] as const) {
      const source = join(dir.path, `clips-${mode}`);
      await mkdir(source);
      await writeFile(join(source, 'c1.mp4'), Buffer.alloc(10_000, 1));
      for (let run = 0; run < 2; run++) {
        const summary = await runJob({ ...base, source, outDir: join(source, sub), mode }, () => {});
        assert.equal(summary.files, 1, `${mode}, run ${run}: ${JSON.stringify(summary)}`);
      }
      if (mode === 'folder') assert.deepEqual(await readdir(join(source, sub)), ['c1.mp4']);
    }
    const source = join(dir.path, 'clips-zip');
    const itself = await runJob({ ...base, source, outDir: source, mode: 'folder' }, () => {});
    assert.equal(itself.error?.code, 'USAGE', JSON.stringify(itself));
  } finally {
    await dir.remove();
  }
});

test('a local file read in place that was rewritten at the same size between runs is read again: the archive holds its new bytes, as its manifest says', async () => {
  const dir = await tempDir();
  try {
    const src = join(dir.path, 'src');
    await mkdir(src);
    await writeFile(join(src, 'a.mp4'), randomBytes(4096));
    await writeFile(join(src, 'b.mp4'), randomBytes(4096));
    await writeFile(join(src, 'c.mp4'), '');
    await truncate(join(src, 'c.mp4'), 128 * 1024 * 1024); // sparse: the run is stopped while it reads this
    const out = join(dir.path, 'out');
    const options = jobOptions(src, dir.path, { mode: 'zip', zipName: 'set.zip', concurrency: 1, retries: 0 });
    const stop = new AbortController();
    const first = await runJob(options, (e: JobEvent) => void (e.type === 'file' && e.name === 'b.mp4' && e.state === 'verified' && stop.abort()), stop.signal);
    assert.equal(first.error?.code, 'CANCELLED', JSON.stringify(first));
    // Rewritten meanwhile at the same size (its modification time moves; set ahead, as a
    // rewrite within the same second would not show at the listing's one-second resolution).
    const rewritten = randomBytes(4096);
    await writeFile(join(src, 'a.mp4'), rewritten);
    await utimes(join(src, 'a.mp4'), new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
    const warnings: string[] = [];
    const second = await runJob(options, (e: JobEvent) => void (e.type === 'warning' && warnings.push(e.message)));
    assert.equal(second.ok, true, JSON.stringify(second));
    assert.ok(warnings.some((w) => /a\.mp4: the file changed since it was read .*reading it again/.test(w)), warnings.join('\n'));
    const check = await verifyArchive(join(out, 'set.zip'));
    assert.deepEqual(check.problems, []);
    assert.equal((await readWithYauzl(join(out, 'set.zip'))).get('a.mp4')?.sha256, createHash('sha256').update(rewritten).digest('hex'));
  } finally {
    await dir.remove();
  }
});
