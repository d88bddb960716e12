// BufferedFileWriter: bytes land in order whatever the chunk sizes, pieces are written before
// their block is complete, nothing is written before the gate opens, and each complete block
// is offered for hashing once, in file order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BufferedFileWriter, writeBlockBytes } from '../../../electron/core/download/file-writer.ts';
import { maxWriteBytes } from '../../../electron/core/file-write.ts';
import { tempDir } from '../../helpers/servers.ts';

async function until(condition: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 5000; !condition(); await sleep(2)) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
  }
}

test('chunks of any size reach the file in order, and every complete block is hashed once, in order', async () => {
  const dir = await tempDir();
  try {
    const data = randomBytes(3 * writeBlockBytes + 123_457);
    const file = await open(join(dir.path, 'out.bin'), 'w');
    const hash = createHash('sha256');
    const offered: Array<[number, number]> = [];
    const writer = new BufferedFileWriter(file, 0, {
      hashBlock: (block, position) => {
        offered.push([position, block.length]);
        hash.update(block);
        return undefined;
      },
    });
    for (let offset = 0, i = 0; offset < data.length; i++) {
      const n = Math.min(data.length - offset, [1, 65_536, 300_000, 7, 1_048_576][i % 5]!);
      const wait = writer.write(data.subarray(offset, offset + n));
      if (wait) await wait;
      offset += n;
    }
    await writer.flush();
    await writer.close();
    await file.close();
    assert.ok((await readFile(join(dir.path, 'out.bin'))).equals(data));
    assert.equal(writer.writtenUpTo, data.length);
    assert.deepEqual(offered.map(([position]) => position), [0, 1, 2, 3].map((i) => i * writeBlockBytes));
    assert.equal(offered.reduce((sum, [, length]) => sum + length, 0), data.length);
    assert.equal(hash.digest('hex'), createHash('sha256').update(data).digest('hex'));
  } finally {
    await dir.remove();
  }
});

test('a full piece is written before its block is complete; nothing is written before the gate opens', async () => {
  const dir = await tempDir();
  try {
    const path = join(dir.path, 'out.bin');
    const file = await open(path, 'w');
    let openGate = () => {};
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const writer = new BufferedFileWriter(file, 0, { gate });
    const data = randomBytes(maxWriteBytes + 1000);
    assert.equal(writer.write(data), undefined);
    await sleep(50);
    assert.equal((await stat(path)).size, 0, 'held back by the gate');
    openGate();
    await until(() => writer.writtenUpTo >= maxWriteBytes, 'the first piece');
    assert.equal(writer.completeUpTo, 0, 'its block is not complete');
    await writer.flush();
    assert.equal(writer.writtenUpTo, data.length);
    assert.equal(writer.completeUpTo, data.length);
    await writer.close();
    await file.close();
    assert.ok((await readFile(path)).equals(data));
  } finally {
    await dir.remove();
  }
});

test('a chunk still waiting for a free block when the body fails is written and hashed by flush(), not after it', async () => {
  const dir = await tempDir();
  try {
    const path = join(dir.path, 'out.bin');
    const file = await open(path, 'w');
    const hashed: Buffer[] = [];
    // A busy hashing thread: every block is held ~10 ms, so all blocks are soon in flight.
    const writer = new BufferedFileWriter(file, 0, {
      hashBlock: (block) => {
        hashed.push(Buffer.from(block));
        return sleep(10);
      },
    });
    const data = randomBytes(8 * writeBlockBytes);
    let given = 0;
    let waiting: Promise<void> | undefined;
    while (!waiting) {
      waiting = writer.write(data.subarray(given, given + maxWriteBytes));
      given += maxWriteBytes;
    }
    // The body fails here (its consumer is told while that wait is pending): flush and close.
    await writer.flush();
    await writer.close();
    await file.close();
    await waiting;
    const onDisk = await readFile(path);
    assert.ok(onDisk.equals(data.subarray(0, given)), `the file holds every byte given (${onDisk.length} of ${given})`);
    assert.ok(Buffer.concat(hashed).equals(onDisk), 'the hash covers exactly the bytes in the file');
  } finally {
    await dir.remove();
  }
});
