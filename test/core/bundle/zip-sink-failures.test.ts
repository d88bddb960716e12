import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { createZipSink } from '../../../electron/core/bundle/zip-sink.ts';
import { forkZipWorker } from '../../../electron/core/bundle/fork-zip-worker.ts';
import { parseManifest } from '../../../electron/core/bundle/manifest.ts';
import { verifyArchive } from '../../../electron/core/bundle/verify-archive.ts';
import type { JobEvent } from '../../../electron/core/jobs/job-events.ts';
import type { VerifiedFile } from '../../../electron/core/jobs/output-sink.ts';
import { checkWithAllReaders, makeContext, makeTempDir, readEntryText, sha256File, stageFile } from './bundle-test-kit.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A big sparse staged file: reads fast enough to be mid-zip when we act, slow enough to still be there. */
async function stageSparse(dir: string, name: string, size: number): Promise<VerifiedFile> {
  const file = path.join(dir, `sparse-${name}`);
  await fs.writeFile(file, '');
  await fs.truncate(file, size);
  return { id: name, safePath: name, path: file, size, sha256: '0'.repeat(64), sourceUrl: file, mtimeMs: Date.now() };
}

/** The archive files in `out`, an empty one marked: what a stopped job leaves (an empty part holds its name). */
async function archiveFilesLeft(out: string): Promise<string[]> {
  const names = (await fs.readdir(out).catch(() => [] as string[])).filter((n) => n.includes('.zip')).sort();
  return Promise.all(names.map(async (n) => ((await fs.stat(path.join(out, n))).size === 0 ? `${n} (empty)` : n)));
}

test('cancel stops promptly, ends the worker and deletes the partial archive', async () => {
  const dir = await makeTempDir('cancel');
  try {
    const big = await stageSparse(dir, 'long.mp4', 8 * 1024 ** 3);
    const out = path.join(dir, 'out');
    const { ctx, events, controller } = makeContext(out);
    let pid = 0;
    const sink = createZipSink(ctx, {
      zipName: 'c.zip', expectedFiles: 1, expectedBytes: big.size,
      spawnWorker: () => {
        const handle = forkZipWorker();
        pid = handle.pid!;
        return handle;
      },
    });
    await sink.add(big);
    await waitFor(() => events.some((e) => e.type === 'bundle' && e.state === 'writing' && (e.bytesDone ?? 0) > 0), 10_000);
    assert.ok((await fs.readdir(out)).includes('c.zip.part'));
    const started = Date.now();
    controller.abort();
    await sink.abort();
    assert.ok(Date.now() - started < 2000, `abort took ${Date.now() - started} ms`);
    // The partial archive's bytes are gone; an empty part keeps the name while the job is stopped.
    assert.deepEqual(await archiveFilesLeft(out), ['c.zip.part (empty)']);
    await waitFor(() => !alive(pid), 3000);
    await assert.rejects(sink.finish({ failed: [] }), (error: { code?: string }) => error.code === 'CANCELLED');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a source that fails mid-read fails the bundle clearly and fast instead of stalling', async () => {
  const dir = await makeTempDir('source-error');
  try {
    const good = await stageFile(dir, 'good.mp4', 10_000);
    const folder = path.join(dir, 'a-folder'); // opens fine, reading fails with EISDIR
    await fs.mkdir(folder);
    const cases: Array<[VerifiedFile, RegExp]> = [
      [{ ...good, id: 'x1', safePath: 'unreadable.mp4', path: folder }, /^cannot read unreadable\.mp4: .*EISDIR/],
      [{ ...good, id: 'x2', safePath: 'gone.mp4', path: path.join(dir, 'missing') }, /^cannot read gone\.mp4: .*ENOENT/],
      [{ ...good, id: 'x3', safePath: 'shrunk.mp4', size: good.size + 5 }, /^file changed size while zipping: shrunk\.mp4 \(expected 10005 bytes, read 10000\)/],
    ];
    for (const [i, [bad, message]] of cases.entries()) {
      const out = path.join(dir, `out-${i}`);
      const { ctx } = makeContext(out);
      const sink = createZipSink(ctx, { zipName: 'e.zip', expectedFiles: 2, expectedBytes: 1 });
      const started = Date.now();
      await sink.add({ ...good, id: `good-${i}` });
      await sink.add(bad);
      await assert.rejects(sink.finish({ failed: [] }), (error: { code?: string; message?: string }) => error.code === 'ZIP_FAILED' && message.test(error.message ?? ''));
      assert.ok(Date.now() - started < 5000);
      await sink.abort();
      assert.deepEqual(await archiveFilesLeft(out), ['e.zip.part (empty)'], 'partial deleted');
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a worker that dies as it starts fails the bundle with one clear error', async () => {
  const dir = await makeTempDir('dead-worker');
  try {
    // Stands in for a worker that cannot load (a missing module, a broken install).
    const script = path.join(dir, 'dies.mjs');
    await fs.writeFile(script, "throw new Error('Cannot find module yazl');\n");
    const out = path.join(dir, 'out');
    const { ctx } = makeContext(out);
    const sink = createZipSink(ctx, { zipName: 'd.zip', expectedFiles: 50, expectedBytes: 1, spawnWorker: () => forkZipWorker(script) });
    const files = await Promise.all(Array.from({ length: 5 }, (_, i) => stageFile(dir, `clip-${i}.mp4`, 1000)));
    // Sends before, while and after it dies: the ones that hit the closing channel fail with EPIPE.
    for (let round = 0; round < 100; round++) {
      for (const file of files) await sink.add({ ...file, id: `${file.id}-${round}`, safePath: `${round}/${file.safePath}` }).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await assert.rejects(sink.finish({ failed: [] }), (error: { code?: string; message?: string }) => error.code === 'ZIP_FAILED' && /zip worker exited unexpectedly: code 1/.test(error.message ?? ''));
    await sink.abort();
    assert.deepEqual(await archiveFilesLeft(out), ['d.zip.part (empty)'], 'no partial archive left');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('kill -9 of the process hosting the sink mid-zip: a rerun keeps finished volumes and rebuilds the rest without the released files', async () => {
  const dir = await makeTempDir('crash');
  try {
    const files: VerifiedFile[] = [];
    for (let i = 0; i < 16; i++) files.push(await stageFile(dir, `clip-${String(i).padStart(2, '0')}.mp4`, 150_000));
    const out = path.join(dir, 'out');
    const config = path.join(dir, 'config.json');
    await fs.writeFile(config, JSON.stringify({ outDir: out, volumeSize: 512 * 1024, files, delayMs: 40 }));
    const child = spawn(process.execPath, [path.join(import.meta.dirname, 'fixtures', 'run-zip-sink.ts'), config], { stdio: ['ignore', 'pipe', 'inherit'] });
    const released: string[] = [];
    let done = 0;
    for await (const line of readline.createInterface({ input: child.stdout! })) {
      const event = JSON.parse(line) as JobEvent | { type: 'released'; ids: string[] };
      if (event.type === 'released') released.push(...event.ids);
      if (event.type === 'released' && ++done === 2) {
        child.kill('SIGKILL');
        break;
      }
    }
    await new Promise((resolve) => child.once('exit', resolve));
    const before = (await fs.readdir(out)).sort();
    assert.deepEqual(before.filter((n) => /\.part\d+\.zip$/.test(n)), ['crash.part1.zip', 'crash.part2.zip']);
    const keptHashes = [await sha256File(path.join(out, 'crash.part1.zip')), await sha256File(path.join(out, 'crash.part2.zip'))];
    // The job runner deletes released staged files: a rerun must not need them.
    for (const file of files.filter((f) => released.includes(f.id))) await fs.rm(file.path);
    assert.ok(released.length >= 4 && released.length < files.length, `${released.length} released`);

    const { ctx } = makeContext(out);
    const sink = createZipSink(ctx, { zipName: 'crash.zip', volumeSize: 512 * 1024, expectedFiles: files.length, expectedBytes: 0 });
    for (const file of files) await sink.add(file);
    const outputs = await sink.finish({ failed: [] });
    assert.deepEqual(outputs.slice(0, 2).map((o) => o.sha256), keptHashes, 'finished volumes kept as they were');
    assert.deepEqual((await fs.readdir(out)).filter((n) => n.endsWith('.part')), []);
    const all = new Set<string>();
    for (const output of outputs) {
      const manifest = parseManifest(await readEntryText(output.path, 'manifest.json'));
      const inside = files.filter((f) => manifest.files.some((r) => r.path === f.safePath));
      await checkWithAllReaders(output.path, inside.map((f) => ({ name: f.safePath, size: f.size, sha256: f.sha256 })));
      assert.ok((await verifyArchive(output.path)).ok);
      for (const f of inside) all.add(f.safePath);
    }
    assert.equal(all.size, files.length);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
