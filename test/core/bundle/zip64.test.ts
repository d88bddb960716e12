import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createZipSink } from '../../../electron/core/bundle/zip-sink.ts';
import { verifyArchive } from '../../../electron/core/bundle/verify-archive.ts';
import type { VerifiedFile } from '../../../electron/core/jobs/output-sink.ts';
import { checkWithAllReaders, makeContext, makeTempDir, sha256File, stageFile } from './bundle-test-kit.ts';

// One entry over 4 GiB (ZIP64 sizes) followed by entries past the 4 GiB offset (ZIP64 offsets).
// The big source is sparse, so it costs no disk to create; the archive itself is ~4.3 GiB.
test('an archive over 4 GiB is accepted by unzip, 7z, bsdtar, Python zipfile and yauzl', { timeout: 240_000 }, async () => {
  const dir = await makeTempDir('zip64');
  try {
    const bigSize = 4 * 1024 ** 3 + 300 * 1024 ** 2 + 7;
    const bigPath = path.join(dir, 'big-source');
    await fs.writeFile(bigPath, '');
    await fs.truncate(bigPath, bigSize);
    const fh = await fs.open(bigPath, 'r+');
    await fh.write(Buffer.from('not all zeros'), 0, 13, bigSize - 13); // a tail that must land intact
    await fh.close();
    const big: VerifiedFile = { id: 'big', safePath: 'long take.mp4', path: bigPath, size: bigSize, sha256: await sha256File(bigPath), sourceUrl: bigPath, mtimeMs: Date.now() };
    const files = [await stageFile(dir, 'before.mp4', 100_000), big, await stageFile(dir, 'after.mp4', 200_000), await stageFile(dir, 'after.json', Buffer.from('{"x":1}'))];
    const { ctx } = makeContext(path.join(dir, 'out'));
    const sink = createZipSink(ctx, { zipName: 'large.zip', expectedFiles: files.length, expectedBytes: files.reduce((s, f) => s + f.size, 0) });
    for (const file of files) await sink.add(file);
    const [archive] = await sink.finish({ failed: [] });
    assert.ok(archive!.size > 4 * 1024 ** 3);
    await checkWithAllReaders(archive!.path, files.map((f) => ({ name: f.safePath, size: f.size, sha256: f.sha256 })));
    assert.deepEqual((await verifyArchive(archive!.path)).problems, []);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
