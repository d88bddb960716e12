import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { safeRelativePath, UniquePathAllocator } from '../../../electron/core/names/safe-path.ts';
import { createZipSink } from '../../../electron/core/bundle/zip-sink.ts';
import { parseManifest } from '../../../electron/core/bundle/manifest.ts';
import { verifyArchive } from '../../../electron/core/bundle/verify-archive.ts';
import type { Manifest } from '../../../electron/core/bundle/manifest.ts';
import type { VerifiedFile } from '../../../electron/core/jobs/output-sink.ts';
import { checkWithAllReaders, makeContext, makeTempDir, readEntryText, run, stageFile } from './bundle-test-kit.ts';

const expectedOf = (files: VerifiedFile[]) => files.map((f) => ({ name: f.safePath, size: f.size, sha256: f.sha256 }));
const total = (files: VerifiedFile[]) => files.reduce((sum, f) => sum + f.size, 0);

test('bundles real files: every reader accepts the archive, entries are byte-identical, manifest and SHA256SUMS are right', async () => {
  const dir = await makeTempDir('sink');
  try {
    const files = [
      await stageFile(dir, 'clip one.mp4', 700_000, { etag: '"abc"', lastModified: 'Tue, 01 Jul 2025 10:00:00 GMT', createdAt: '2025-07-01T10:00:00Z', params: { seed: 7, prompt: '你好' } }),
      await stageFile(dir, 'sub/subtitles.srt', Buffer.from('1\n00:00:01,000 --> 00:00:02,000\nhello\n'.repeat(500))),
      await stageFile(dir, 'sub/deeper/Café.png', 5000),
      await stageFile(dir, 'empty.txt', Buffer.alloc(0)),
    ];
    const { ctx, events } = makeContext(path.join(dir, 'out'));
    const released: string[] = [];
    const sink = createZipSink(ctx, { expectedFiles: files.length, expectedBytes: total(files), onReleased: (ids) => released.push(...ids) });
    for (const file of files) await sink.add(file);
    const outputs = await sink.finish({ failed: [{ name: 'broken.mp4', reason: 'HTTP 500' }] });

    assert.equal(outputs.length, 1);
    const archive = outputs[0]!;
    assert.match(path.basename(archive.path), /^127\.0\.0\.1_results_\d{8}_\d{4}\.zip$/);
    assert.equal(archive.size, (await fs.stat(archive.path)).size);
    const { stdout: shaOut } = await run('sha256sum', [archive.path]);
    assert.equal(archive.sha256, shaOut.split(' ')[0]);
    assert.deepEqual((await fs.readdir(path.dirname(archive.path))).filter((n) => n.endsWith('.part')), []);
    await checkWithAllReaders(archive.path, expectedOf(files));

    const manifest = parseManifest(await readEntryText(archive.path, 'manifest.json'));
    assert.equal(manifest.version, 1);
    assert.deepEqual(manifest.source, ctx.source);
    assert.deepEqual(manifest.failed, [{ name: 'broken.mp4', reason: 'HTTP 500' }]);
    assert.equal(manifest.archive.complete, true);
    const { stdout: listing } = await run('unzip', ['-Z', '-v', archive.path]);
    for (const file of files) {
      const record = manifest.files.find((f) => f.path === file.safePath)!;
      assert.equal(record.sha256, file.sha256);
      assert.equal(record.size, file.size);
      assert.equal(record.id, file.id);
      assert.equal(record.sourceUrl, file.sourceUrl);
      assert.match(listing, new RegExp(`32-bit CRC value \\(hex\\):\\s+${record.crc32}\\n`), `crc of ${file.safePath}`);
    }
    const first = manifest.files.find((f) => f.path === 'clip one.mp4')!;
    assert.deepEqual([first.etag, first.lastModified, first.createdAt, first.params], [files[0]!.etag, files[0]!.lastModified, files[0]!.createdAt, files[0]!.params]);
    assert.match(listing, /clip one\.mp4[\s\S]*?compression method:\s+none \(stored\)/);
    assert.match(listing, /subtitles\.srt[\s\S]*?compression method:\s+deflated/);

    const extracted = path.join(dir, 'extracted');
    await run('unzip', ['-q', archive.path, '-d', extracted]);
    const check = await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: extracted });
    assert.equal(check.stdout.trim().split('\n').length, files.length);
    assert.deepEqual(await verifyArchive(archive.path), { ok: true, entries: files.length + 2, problems: [] });

    assert.deepEqual(released.sort(), files.map((f) => f.id).sort());
    assert.ok(events.some((e) => e.type === 'output' && e.path === archive.path && e.sha256 === archive.sha256));
    assert.ok(events.some((e) => e.type === 'bundle' && e.state === 'done'));
    assert.ok(events.some((e) => e.type === 'bundle' && e.state === 'verifying'));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('hostile names stay inside the extraction folder', async () => {
  const dir = await makeTempDir('hostile');
  try {
    const allocator = new UniquePathAllocator();
    allocator.reserve('manifest.json');
    allocator.reserve('SHA256SUMS');
    const hostile = ['../../etc/passwd', '/etc/shadow.mp4', 'a\\..\\..\\b.mp4', 'C:\\Windows\\x.mp4', 'CON.mp4', 'clip.mp4. . ', 'bad\u0000name.mp4', '..', 'manifest.json', 'SHA256SUMS', 'clip.mp4'];
    const files: VerifiedFile[] = [];
    for (const name of hostile) files.push(await stageFile(dir, allocator.allocate(name), 1000));
    const jail = path.join(dir, 'jail');
    const { ctx } = makeContext(path.join(dir, 'out'));
    const sink = createZipSink(ctx, { zipName: 'hostile.zip', expectedFiles: files.length, expectedBytes: total(files) });
    for (const file of files) await sink.add(file);
    const [archive] = await sink.finish({ failed: [] });
    await checkWithAllReaders(archive!.path, expectedOf(files));
    const inside = path.join(jail, 'inside');
    await fs.mkdir(inside, { recursive: true });
    await run('unzip', ['-q', archive!.path, '-d', inside]);
    assert.deepEqual(await fs.readdir(jail), ['inside'], 'nothing written beside the extraction folder');
    const found = (await fs.readdir(inside, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(inside, path.join(e.parentPath, e.name)));
    assert.deepEqual(found.sort(), [...files.map((f) => f.safePath), 'manifest.json', 'SHA256SUMS'].sort());
    assert.ok(files.every((f) => safeRelativePath(f.safePath) === f.safePath));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('an unsafe or reserved entry name is refused', async () => {
  const dir = await makeTempDir('unsafe');
  try {
    for (const name of ['../evil.mp4', 'manifest.json']) {
      const file = await stageFile(dir, name, 10);
      const { ctx } = makeContext(path.join(dir, `out-${name.length}`));
      const sink = createZipSink(ctx, { zipName: 'x.zip', expectedFiles: 1, expectedBytes: 10 });
      await sink.add(file);
      await assert.rejects(sink.finish({ failed: [] }), (error: { code?: string; message?: string }) => error.code === 'ZIP_FAILED' && /entry name/.test(error.message ?? ''));
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('volumes honour the limit, each opens alone, manifests name the set, an oversize file gets its own volume', async () => {
  const dir = await makeTempDir('volumes');
  try {
    const limit = 1024 * 1024;
    const files: VerifiedFile[] = [];
    for (let i = 0; i < 9; i++) files.push(await stageFile(dir, `clip-${i}.mp4`, 200_000 + i * 7919));
    files.push(await stageFile(dir, 'notes.txt', Buffer.from('text '.repeat(40_000))));
    files.push(await stageFile(dir, 'huge.mov', 1_300_000));
    files.push(await stageFile(dir, 'after.jpg', 300_000));
    const { ctx, events } = makeContext(path.join(dir, 'out'));
    const sink = createZipSink(ctx, { zipName: 'set', volumeSize: limit, expectedFiles: files.length, expectedBytes: total(files) });
    for (const file of files) await sink.add(file);
    const outputs = await sink.finish({ failed: [{ name: 'lost.mp4', reason: 'HTTP 404' }] });

    assert.ok(outputs.length >= 4, `${outputs.length} volumes`);
    assert.deepEqual(outputs.map((o) => path.basename(o.path)), outputs.map((_, i) => `set.part${i + 1}.zip`));
    const seen = new Map<string, string>();
    const manifests: Manifest[] = [];
    for (const output of outputs) {
      const manifest = parseManifest(await readEntryText(output.path, 'manifest.json'));
      manifests.push(manifest);
      const inside = files.filter((f) => manifest.files.some((r) => r.path === f.safePath));
      await checkWithAllReaders(output.path, expectedOf(inside));
      for (const f of inside) {
        assert.equal(seen.has(f.safePath), false, `${f.safePath} in one volume only`);
        seen.set(f.safePath, output.path);
      }
      const oversize = inside.some((f) => f.safePath === 'huge.mov');
      if (oversize) assert.equal(inside.length, 1, 'the oversize file is alone');
      else assert.ok(output.size <= limit, `${path.basename(output.path)} is ${output.size} bytes`);
      assert.deepEqual((await verifyArchive(output.path)).problems, []);
    }
    assert.equal(seen.size, files.length);
    const last = manifests.at(-1)!;
    assert.equal(last.archive.complete, true);
    assert.deepEqual(last.volumes.map((v) => v.name), outputs.map((o) => path.basename(o.path)));
    assert.deepEqual(last.volumes.slice(0, -1).map((v) => v.sha256), outputs.slice(0, -1).map((o) => o.sha256));
    assert.deepEqual(last.failed, [{ name: 'lost.mp4', reason: 'HTTP 404' }]);
    for (const [i, manifest] of manifests.slice(0, -1).entries()) {
      assert.equal(manifest.archive.complete, false);
      assert.equal(manifest.archive.volume, i + 1);
      assert.deepEqual(manifest.volumes.map((v) => v.name), outputs.slice(0, i + 1).map((o) => path.basename(o.path)));
    }
    // The limit as it can be typed (1m) and exact, since rounded sizes can look equal.
    const warning = events.find((e) => e.type === 'warning' && /huge\.mov/.test(e.message));
    assert.match(warning?.type === 'warning' ? warning.message : '', /huge\.mov needs 1,3\d\d,\d\d\d bytes with its ZIP headers and the manifest, more than the volume size 1m \(1,048,576 bytes\)/);
    // The last volume names the whole set: verifying it finds a volume that went missing.
    const first = outputs[0]!.path;
    await fs.rename(first, `${first}.moved`);
    assert.deepEqual((await verifyArchive(outputs.at(-1)!.path)).problems, ['volume of this set missing beside it: set.part1.zip']);
    await fs.rename(`${first}.moved`, first);
    const progressTimes = events.filter((e) => e.type === 'bundle' && e.state === 'writing').length;
    assert.ok(progressTimes >= outputs.length);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('an oversize last file takes the complete manifest into its own volume, not into a volume holding nothing else', async () => {
  const dir = await makeTempDir('oversize-last');
  try {
    const files = [await stageFile(dir, 'small.mp4', 100_000), await stageFile(dir, 'huge.mov', 1_300_000)];
    const { ctx } = makeContext(path.join(dir, 'out'));
    const sink = createZipSink(ctx, { zipName: 'set', volumeSize: 1024 * 1024, expectedFiles: files.length, expectedBytes: total(files) });
    for (const file of files) await sink.add(file);
    const outputs = await sink.finish({ failed: [] });
    assert.deepEqual(outputs.map((o) => path.basename(o.path)), ['set.part1.zip', 'set.part2.zip']);
    const last = parseManifest(await readEntryText(outputs[1]!.path, 'manifest.json'));
    assert.equal(last.archive.complete, true);
    assert.deepEqual(last.files.map((f) => f.path), ['huge.mov']);
    await checkWithAllReaders(outputs[1]!.path, expectedOf([files[1]!]));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('an existing archive is never overwritten: the new one gets " (2)", a volume whose name was taken "set.part2 (2).zip"', async () => {
  const dir = await makeTempDir('taken');
  try {
    const out = path.join(dir, 'out');
    await fs.mkdir(out);
    await fs.writeFile(path.join(out, 'mine.zip'), 'precious');
    const file = await stageFile(dir, 'a.mp4', 100);
    const { ctx, events } = makeContext(out);
    const sink = createZipSink(ctx, { zipName: 'mine.zip', expectedFiles: 1, expectedBytes: 100 });
    await sink.add(file);
    const [archive] = await sink.finish({ failed: [] });
    assert.equal(path.basename(archive!.path), 'mine (2).zip');
    assert.ok(events.some((e) => e.type === 'warning' && e.message === 'mine.zip is taken by another file: the archive will be mine (2).zip'));
    assert.equal(await fs.readFile(path.join(out, 'mine.zip'), 'utf8'), 'precious');
    // Taken while the archive was being written (another run given the same --zip): the next free name.
    const out2 = path.join(dir, 'out2');
    await fs.mkdir(out2);
    const later = makeContext(out2);
    const second = createZipSink(later.ctx, { zipName: 'later.zip', expectedFiles: 1, expectedBytes: 100 });
    await second.add(await stageFile(dir, 'b.mp4', 100));
    await fs.writeFile(path.join(out2, 'later.zip'), 'theirs');
    const [renamed] = await second.finish({ failed: [] });
    assert.equal(path.basename(renamed!.path), 'later (2).zip');
    assert.equal(await fs.readFile(path.join(out2, 'later.zip'), 'utf8'), 'theirs');
    assert.equal(parseManifest(await readEntryText(renamed!.path, 'manifest.json')).archive.name, 'later (2).zip');
    assert.deepEqual((await verifyArchive(renamed!.path)).problems, []);
    assert.ok(later.events.some((e) => e.type === 'warning' && /later\.zip was taken by another file meanwhile: the archive is later \(2\)\.zip/.test(e.message)));

    // A volume's name taken while the set is written: that volume gets a number of its own, the
    // set stays whole (it failed on every run: the volume was recorded, then its rename refused).
    const out3 = path.join(dir, 'out3');
    await fs.mkdir(out3);
    const set = makeContext(out3);
    const files = await Promise.all([0, 1, 2, 3].map((i) => stageFile(dir, `v${i}.mp4`, 600_000 + i)));
    const third = createZipSink(set.ctx, { zipName: 'set', volumeSize: 1024 * 1024, expectedFiles: files.length, expectedBytes: total(files) });
    await third.add(files[0]!);
    await fs.writeFile(path.join(out3, 'set.part2.zip'), 'theirs');
    for (const file of files.slice(1)) await third.add(file);
    const volumes = await third.finish({ failed: [] });
    assert.deepEqual(volumes.map((v) => path.basename(v.path)), ['set.part1.zip', 'set.part2 (2).zip', 'set.part3.zip', 'set.part4.zip']);
    assert.equal(await fs.readFile(path.join(out3, 'set.part2.zip'), 'utf8'), 'theirs');
    const lastManifest = parseManifest(await readEntryText(volumes.at(-1)!.path, 'manifest.json'));
    assert.deepEqual(lastManifest.volumes.map((v) => v.name), volumes.map((v) => path.basename(v.path)));
    for (const volume of volumes) {
      assert.ok(volume.size <= 1024 * 1024);
      assert.deepEqual((await verifyArchive(volume.path)).problems, [], volume.path);
    }
    assert.ok(set.events.some((e) => e.type === 'warning' && /set\.part2\.zip was taken by another file meanwhile: the volume is set\.part2 \(2\)\.zip/.test(e.message)));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('two jobs given the same --zip path from different folders, both started before either writes, get different archives', async () => {
  const dir = await makeTempDir('same-zip');
  try {
    const shared = path.join(dir, 'shared', 'batch.zip');
    const sinks = [0, 1].map((i) => {
      const { ctx } = makeContext(path.join(dir, `out${i}`));
      return createZipSink(ctx, { zipName: shared, expectedFiles: 1, expectedBytes: 20_000_000 });
    });
    await Promise.all(sinks.map((sink) => sink.prepare()));
    // Both write at once: one shared ".zip.part" would be written by two workers.
    const staged = await Promise.all(sinks.map((_, i) => stageFile(dir, `clip-${i}.mp4`, 20_000_000 + i)));
    for (const [i, sink] of sinks.entries()) await sink.add(staged[i]!);
    const outputs = (await Promise.all(sinks.map((sink) => sink.finish({ failed: [] })))).flat();
    assert.deepEqual(outputs.map((o) => path.basename(o.path)).sort(), ['batch (2).zip', 'batch.zip']);
    for (const output of outputs) assert.deepEqual((await verifyArchive(output.path)).problems, [], output.path);
    assert.deepEqual((await fs.readdir(path.dirname(shared))).sort(), ['batch (2).zip', 'batch.zip']);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a stopped job keeps its archive name: another job given the same --zip meanwhile takes " (2)", and neither loses its archive when the first resumes', async () => {
  const dir = await makeTempDir('held-name');
  try {
    const shared = path.join(dir, 'shared', 'batch.zip');
    const files = await Promise.all([0, 1].map((i) => stageFile(dir, `clip-${i}.mp4`, 300_000 + i)));
    const options = { zipName: shared, expectedFiles: 1, expectedBytes: 300_000 };
    const first = makeContext(path.join(dir, 'out-a'));
    const stopped = createZipSink(first.ctx, options);
    await stopped.add(files[0]!);
    first.controller.abort(); // paused
    await stopped.abort();
    assert.deepEqual(await fs.readdir(path.dirname(shared)), ['batch.zip.part'], 'an empty part holds the name');
    const other = createZipSink(makeContext(path.join(dir, 'out-b')).ctx, options);
    await other.add(files[1]!);
    const resumed = createZipSink(makeContext(path.join(dir, 'out-a')).ctx, options);
    await resumed.add(files[0]!);
    const [mine] = await resumed.finish({ failed: [] });
    const [theirs] = await other.finish({ failed: [] });
    assert.equal(path.basename(mine!.path), 'batch.zip');
    assert.equal(path.basename(theirs!.path), 'batch (2).zip');
    await checkWithAllReaders(mine!.path, expectedOf([files[0]!]));
    await checkWithAllReaders(theirs!.path, expectedOf([files[1]!]));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a rerun after a crash between finishing the archive and clearing the job reports the archive again', async () => {
  const dir = await makeTempDir('done-again');
  try {
    const out = path.join(dir, 'out');
    const file = await stageFile(dir, 'a.mp4', 1000);
    const first = createZipSink(makeContext(out).ctx, { expectedFiles: 1, expectedBytes: 1000 });
    await first.add(file);
    const outputs = await first.finish({ failed: [] });
    // The job state stays (the crash): the next run hands the same verified file to a new sink.
    const released: string[] = [];
    const again = createZipSink(makeContext(out).ctx, { expectedFiles: 1, expectedBytes: 1000, onReleased: (ids) => released.push(...ids) });
    await again.prepare();
    // It holds every file already: the job must not think their (released) staged copies lost
    // and download the batch again (see copyGone in the job runner).
    assert.equal(again.holds?.(file.id, file.sha256), true);
    await again.add(file);
    assert.deepEqual(await again.finish({ failed: [] }), outputs);
    assert.deepEqual(released, [file.id], 'its staged copy may go: the archive holding it is complete');
    assert.deepEqual((await fs.readdir(out)).filter((name) => name.endsWith('.zip')), [path.basename(outputs[0]!.path)], 'no second archive');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('cancelled while getting ready, prepare() rejects: the job must not start downloading', async () => {
  const dir = await makeTempDir('cancel-prepare');
  try {
    const { ctx, controller } = makeContext(path.join(dir, 'out'));
    const sink = createZipSink(ctx, { expectedFiles: 1, expectedBytes: 100 });
    const preparing = sink.prepare();
    controller.abort();
    await assert.rejects(preparing, (error: { code?: string }) => error.code === 'CANCELLED');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('too little free space fails before starting with a clear DISK_FULL', async () => {
  const dir = await makeTempDir('space');
  try {
    const file = await stageFile(dir, 'a.mp4', 100);
    const { ctx } = makeContext(path.join(dir, 'out'));
    const sink = createZipSink(ctx, { expectedFiles: 1, expectedBytes: 2 ** 52 });
    await assert.rejects(sink.add(file), (error: { code?: string; message?: string }) => error.code === 'DISK_FULL' && /not enough free space for the archive: need .* free in /.test(error.message ?? ''));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('verifyArchive reports a damaged entry and a manifest mismatch', async () => {
  const dir = await makeTempDir('damage');
  try {
    const files = [await stageFile(dir, 'a.mp4', 50_000), await stageFile(dir, 'b.mp4', 50_000)];
    const { ctx } = makeContext(path.join(dir, 'out'));
    const sink = createZipSink(ctx, { zipName: 'd.zip', expectedFiles: 2, expectedBytes: total(files) });
    for (const file of files) await sink.add(file);
    const [archive] = await sink.finish({ failed: [] });
    const bytes = await fs.readFile(archive!.path);
    bytes[30 + 'a.mp4'.length + 1000]! ^= 0xff; // inside a.mp4's stored data
    await fs.writeFile(archive!.path, bytes);
    const result = await verifyArchive(archive!.path);
    assert.equal(result.ok, false);
    assert.ok(result.problems.some((p) => /^CRC-32 mismatch: a\.mp4/.test(p)), result.problems.join('\n'));
    assert.ok(result.problems.some((p) => /^SHA-256 differs from manifest: a\.mp4/.test(p)));
    assert.ok(!result.problems.some((p) => /b\.mp4/.test(p)));
    const missing = await verifyArchive(path.join(dir, 'nope.zip'));
    assert.equal(missing.ok, false);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('progress shows a burst of small files once they are zipped, and counts sizes learned later', async () => {
  const dir = await makeTempDir('progress');
  try {
    const files = [await stageFile(dir, 'a.mp4', 30_000), await stageFile(dir, 'b.mp4', 40_000), await stageFile(dir, 'c.mp4', 50_000)];
    const { ctx, events } = makeContext(path.join(dir, 'out'));
    // The listing knew one size; the others were learned from responses (expectMore).
    const sink = createZipSink(ctx, { expectedFiles: 3, expectedBytes: 30_000 });
    for (const file of files) await sink.add(file);
    sink.expectMore(90_000);
    const allBytes = 120_000;
    const writing = () => events.filter((e) => e.type === 'bundle' && e.state === 'writing');
    // Not closed yet: what is shown must still catch up with the burst (a trailing report).
    const deadline = Date.now() + 5000;
    while (writing().at(-1)?.type !== 'bundle' || (writing().at(-1) as { bytesDone?: number }).bytesDone !== allBytes) {
      assert.ok(Date.now() < deadline, `last progress: ${JSON.stringify(writing().at(-1))}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal((writing().at(-1) as { bytesTotal?: number }).bytesTotal, allBytes);
    await sink.finish({ failed: [] });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('verify reports a SHA256SUMS line for a file that is in neither the archive nor its manifest', async () => {
  const dir = await makeTempDir('sums-extra');
  try {
    const out = path.join(dir, 'out');
    const sink = createZipSink(makeContext(out).ctx, { zipName: 'a', expectedFiles: 1, expectedBytes: 1000 });
    await sink.add(await stageFile(dir, 'a.mp4', 1000));
    const [archive] = await sink.finish({ failed: [] });
    // Rewrite it with SHA256SUMS naming one more file than the archive and its manifest hold.
    const x = path.join(dir, 'x');
    await run('unzip', ['-q', archive!.path, '-d', x]);
    await fs.appendFile(path.join(x, 'SHA256SUMS'), `${'0'.repeat(64)}  gone.mp4\n`);
    const forged = path.join(dir, 'forged.zip');
    await run('zip', ['-q', '-0', '-X', forged, 'a.mp4', 'manifest.json', 'SHA256SUMS'], { cwd: x });
    assert.deepEqual((await verifyArchive(forged)).problems, ['in SHA256SUMS but not in the archive: gone.mp4']);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
