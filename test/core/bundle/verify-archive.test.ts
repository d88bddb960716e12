// `reelpack verify`'s report on a damaged archive: each problem said once, as what it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createZipSink } from '../../../electron/core/bundle/zip-sink.ts';
import { verifyArchive } from '../../../electron/core/bundle/verify-archive.ts';
import { makeContext, makeTempDir, stageFile } from './bundle-test-kit.ts';

/** Zeroes the local header signature of the entry `name` (its first copy of the name is in that header). */
async function breakLocalHeader(archive: string, name: string): Promise<void> {
  const bytes = await fs.readFile(archive);
  const at = bytes.indexOf(Buffer.from(name)) - 30;
  assert.equal(bytes.readUInt32LE(at), 0x04034b50, `local header of ${name}`);
  bytes.writeUInt32LE(0, at);
  await fs.writeFile(archive, bytes);
}

test('an entry that is there but unreadable is reported as unreadable, not also as missing', async () => {
  const dir = await makeTempDir('verify-unreadable');
  try {
    const files = [await stageFile(dir, 'a.mp4', 5000), await stageFile(dir, 'b.mp4', 7000)];
    const { ctx } = makeContext(path.join(dir, 'out'));
    const sink = createZipSink(ctx, { zipName: 'v.zip', expectedFiles: 2, expectedBytes: 12_000 });
    for (const file of files) await sink.add(file);
    const [archive] = await sink.finish({ failed: [] });
    const copy = path.join(dir, 'copy.zip');
    await fs.copyFile(archive!.path, copy);

    await breakLocalHeader(archive!.path, 'b.mp4');
    const damagedEntry = await verifyArchive(archive!.path);
    assert.equal(damagedEntry.ok, false);
    assert.equal(damagedEntry.problems.length, 1, damagedEntry.problems.join('\n'));
    assert.match(damagedEntry.problems[0]!, /^unreadable entry: b\.mp4: /);

    await breakLocalHeader(copy, 'manifest.json');
    const damagedManifest = await verifyArchive(copy);
    assert.equal(damagedManifest.problems.length, 1, damagedManifest.problems.join('\n'));
    assert.match(damagedManifest.problems[0]!, /^unreadable entry: manifest\.json: /);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
