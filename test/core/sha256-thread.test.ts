// The hashing thread must give exactly node:crypto's SHA-256, whatever order and kind of
// buffers it is fed, with several hashes interleaved on the one thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { open, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { blockBytes, copyIntoBlock, FileHashFollower, hashFileRange, releaseBlock, Sha256, takeBlock } from '../../electron/core/sha256-thread.ts';
import { tempDir } from '../helpers/servers.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

test('interleaved hashes over shared blocks and plain buffers match node:crypto', async () => {
  const a = randomBytes(3 * blockBytes + 12345);
  const b = randomBytes(777_777);
  const ha = new Sha256();
  const hb = new Sha256();
  const block = takeBlock();
  try {
    for (let offset = 0; offset < a.length; offset += blockBytes) {
      const n = Math.min(blockBytes, a.length - offset);
      a.copy(block, 0, offset, offset + n);
      const pending = ha.update(block.subarray(0, n));
      // A plain Buffer that is a view into a larger one: only its own bytes may be hashed.
      const sliceStart = Math.min(offset / 4, b.length);
      const sliceEnd = Math.min(sliceStart + 100_000, b.length);
      await hb.update(b.subarray(sliceStart, sliceEnd));
      await pending; // only now may the block be refilled
    }
  } finally {
    releaseBlock(block);
  }
  assert.equal(await ha.digest(), sha256(a));
  const fed = Buffer.concat([0, 1, 2, 3].map((i) => {
    const start = Math.min((i * blockBytes) / 4, b.length);
    return b.subarray(start, Math.min(start + 100_000, b.length));
  }));
  assert.equal(await hb.digest(), sha256(fed));
});

test('copy() continues independently from the state at the time of the copy', async () => {
  const head = randomBytes(5000);
  const tail1 = randomBytes(3000);
  const tail2 = randomBytes(4000);
  const hash = new Sha256();
  void hash.update(head); // not awaited: the copy must still come after it
  const copy = hash.copy();
  await Promise.all([hash.update(tail1), copy.update(tail2)]);
  assert.equal(await hash.digest(), sha256(Buffer.concat([head, tail1])));
  assert.equal(await copy.digest(), sha256(Buffer.concat([head, tail2])));
  await assert.rejects(hash.update(head), /after digest/);
});

test('hashFileRange hashes exactly the requested bytes, and fails on a short file', async () => {
  const dir = await tempDir();
  try {
    const data = randomBytes(2 * blockBytes + 999);
    const file = join(dir.path, 'data.bin');
    await writeFile(file, data);
    const whole = await hashFileRange(file, 0, data.length, new Sha256());
    assert.equal(await whole.digest(), sha256(data));
    const split = await hashFileRange(file, 0, 1_500_000, new Sha256());
    await hashFileRange(file, 1_500_000, data.length, split);
    assert.equal(await split.digest(), sha256(data));
    const middle = await hashFileRange(file, 100, blockBytes + 100, new Sha256());
    assert.equal(await middle.digest(), sha256(data.subarray(100, blockBytes + 100)));
    await assert.rejects(hashFileRange(file, 0, data.length + 10, new Sha256()), /ended at/);
  } finally {
    await dir.remove();
  }
});

test('copyIntoBlock puts the bytes at the offset, once, and leaves the rest of the block alone', () => {
  const block = takeBlock();
  try {
    block.fill(0xee);
    const source = randomBytes(200_003);
    copyIntoBlock(block, source, 4096);
    assert.ok(block.subarray(4096, 4096 + source.length).equals(source));
    assert.equal(block[4095], 0xee);
    assert.equal(block[4096 + source.length], 0xee, 'not repeated past the source');
  } finally {
    releaseBlock(block);
  }
});

test('FileHashFollower takes offered blocks only at the hashed front, reads the rest back, and gives the file\'s SHA-256', async () => {
  const dir = await tempDir();
  const block = takeBlock();
  let follower: FileHashFollower | undefined;
  try {
    const data = randomBytes(5 * blockBytes + 4321);
    const path = join(dir.path, 'data.bin');
    const file = await open(path, 'w');
    let written = 0;
    follower = new FileHashFollower(path, () => written);
    const piece = (i: number) => data.subarray(i * blockBytes, Math.min(data.length, (i + 1) * blockBytes));
    const writePiece = async (i: number) => {
      await file.write(piece(i), 0, piece(i).length, i * blockBytes);
      written = Math.min(data.length, (i + 1) * blockBytes);
    };
    // Block 0 is the front: hashed from memory, before it is even written.
    copyIntoBlock(block, piece(0), 0);
    const taken = follower.offer(block.subarray(0, blockBytes), 0);
    assert.ok(taken, 'the block at the front is taken');
    assert.equal(follower.offer(block.subarray(0, blockBytes), 0), undefined, 'the same bytes are not taken twice');
    assert.equal(follower.offer(block.subarray(0, blockBytes), 2 * blockBytes), undefined, 'a block past the front is not taken');
    await taken;
    await writePiece(0);
    // Blocks 1 and 2 are written without an offer: the follower reads them back.
    await writePiece(1);
    await writePiece(2);
    // Once it has caught up, the next block at the front is taken again.
    copyIntoBlock(block, piece(3), 0);
    let offered: Promise<void> | undefined;
    for (const deadline = Date.now() + 5000; !offered && Date.now() < deadline; await sleep(5)) {
      offered = follower.offer(block.subarray(0, blockBytes), 3 * blockBytes);
    }
    assert.ok(offered, 'taken after the read-back caught up');
    await offered;
    await writePiece(3);
    await writePiece(4);
    await writePiece(5);
    await file.close();
    assert.equal(await follower.finish(data.length), sha256(data));
    assert.equal(follower.offer(block.subarray(0, 10), data.length), undefined, 'nothing is taken after finish');
  } finally {
    await follower?.stop(); // a failed assertion must not leave it polling
    releaseBlock(block);
    await dir.remove();
  }
});

test('FileHashFollower refuses an offer while it is reading the file back, even one at the hashed front', async () => {
  const dir = await tempDir();
  const block = takeBlock();
  let follower: FileHashFollower | undefined;
  try {
    const data = randomBytes(8 * blockBytes);
    const path = join(dir.path, 'data.bin');
    await writeFile(path, data);
    // Everything is written already: the follower starts reading at once, from byte 0.
    follower = new FileHashFollower(path, () => data.length);
    copyIntoBlock(block, data.subarray(0, blockBytes), 0);
    assert.equal(follower.offer(block.subarray(0, blockBytes), 0), undefined, 'those bytes are being read back: taking them too would hash them twice');
    assert.equal(await follower.finish(data.length), sha256(data));
  } finally {
    await follower?.stop(); // a failed assertion must not leave it polling
    releaseBlock(block);
    await dir.remove();
  }
});

test('an idle hashing thread never keeps the process alive, even one that was only ever told to drop a hash', async () => {
  // In a child process: the thread started by a post (a hash dropped before any update, as in
  // a job that fails at once) must not hold the process open.
  const module = new URL('../../electron/core/sha256-thread.ts', import.meta.url).href;
  const script = `const { Sha256 } = await import(${JSON.stringify(module)}); new Sha256().dispose(); console.log('posted');`;
  // A file, not -e with --input-type=module: the thread's eval'd source would inherit that flag.
  const dir = await tempDir();
  await writeFile(join(dir.path, 'drop-only.mjs'), script);
  const child = spawn(process.execPath, [join(dir.path, 'drop-only.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(killer);
  await dir.remove();
  assert.equal(out.trim(), 'posted');
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, 'the process exited by itself');
});
