// The bundle state: finished volumes survive a restart, each volume's file list is written
// once (not again with every later volume), and states written by earlier versions still load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleStateFile, loadBundleState, saveBundleState } from '../../../electron/core/bundle/bundle-state.ts';
import type { BundleState, FinishedVolume } from '../../../electron/core/bundle/bundle-state.ts';
import { tempDir } from '../../helpers/servers.ts';

function volume(n: number, files: number): FinishedVolume {
  return {
    volume: n, fileName: `set.part${n}.zip`, size: 1000 * n, sha256: `${n}`.repeat(64).slice(0, 64), bytes: 900 * n,
    files: Array.from({ length: files }, (_, i) => ({ id: `v${n}-${i}`, path: `clip ${n}-${i}.mp4`, sha256: 'a'.repeat(64) })),
  };
}

test('each volume\'s file list is written once; the state file stays small; all of it loads back', async () => {
  const dir = await tempDir();
  try {
    const state: BundleState = { version: 2, dir: '/out', base: 'set', volumeSize: 1e9, volumes: [] };
    await saveBundleState(dir.path, state);
    state.volumes.push(volume(1, 500));
    await saveBundleState(dir.path, state);
    const firstList = await stat(join(dir.path, 'bundle-volume-1.json'));
    for (let n = 2; n <= 4; n++) {
      state.volumes.push(volume(n, 500));
      await saveBundleState(dir.path, state);
    }
    state.outputs = state.volumes.map((v) => ({ path: v.fileName, size: v.size, sha256: v.sha256 }));
    await saveBundleState(dir.path, state);
    const again = await stat(join(dir.path, 'bundle-volume-1.json'));
    assert.equal(again.mtimeMs, firstList.mtimeMs, 'volume 1\'s list was not written again');
    assert.equal(again.ino, firstList.ino);
    const main = await readFile(join(dir.path, bundleStateFile), 'utf8');
    assert.ok(!main.includes('clip 1-0.mp4') && main.length < 4000, `no file lists inline (${main.length} bytes)`);
    assert.deepEqual(await loadBundleState(dir.path), state);
  } finally {
    await dir.remove();
  }
});

test('a state written with the lists inline (version 1) loads, and the next save moves them out', async () => {
  const dir = await tempDir();
  try {
    const old = { version: 1, dir: '/out', base: 'set', volumeSize: 1e9, volumes: [volume(1, 3), volume(2, 2)] };
    await writeFile(join(dir.path, bundleStateFile), JSON.stringify(old));
    const loaded = await loadBundleState(dir.path);
    assert.deepEqual(loaded?.volumes, old.volumes);
    loaded!.volumes.push(volume(3, 1));
    await saveBundleState(dir.path, loaded!);
    assert.deepEqual((await loadBundleState(dir.path))?.volumes, [...old.volumes, volume(3, 1)]);
    assert.ok(!(await readFile(join(dir.path, bundleStateFile), 'utf8')).includes('clip 1-0.mp4'));
  } finally {
    await dir.remove();
  }
});

test('a state that names no file list for a volume is refused with a message naming it', async () => {
  const dir = await tempDir();
  try {
    const { files: _files, ...headerOnly } = volume(1, 2);
    await writeFile(join(dir.path, bundleStateFile), JSON.stringify({ version: 2, dir: '/out', base: 'set', volumeSize: 1e9, volumes: [headerOnly] }));
    await assert.rejects(loadBundleState(dir.path), /no file list for set\.part1\.zip/);
  } finally {
    await dir.remove();
  }
});

test('a dropped volume does not shift the others onto their neighbours\' file lists', async () => {
  const temp = await tempDir();
  const dir = temp.path;
  try {
    const state: BundleState = { version: 2, dir, base: 'set', volumeSize: 1 << 20, volumes: [] };
    for (const n of [1, 2, 3]) {
      state.volumes.push(volume(n, 1));
      await saveBundleState(dir, state);
    }
    // A later run: part 1 is missing, so it is dropped; part 4 is finished and recorded.
    const loaded = (await loadBundleState(dir))!;
    loaded.volumes = loaded.volumes.filter((v) => v.volume !== 1);
    loaded.volumes.push(volume(4, 1));
    await saveBundleState(dir, loaded);
    const again = (await loadBundleState(dir))!;
    assert.deepEqual(again.volumes.map((v) => [v.fileName, v.files.map((f) => f.id)]), [['set.part2.zip', ['v2-0']], ['set.part3.zip', ['v3-0']], ['set.part4.zip', ['v4-0']]]);
  } finally {
    await temp.remove();
  }
});
