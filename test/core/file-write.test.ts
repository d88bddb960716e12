// writeFully: every byte lands where asked, and no single write() is larger than maxWriteBytes
// (large writes are several times dearer on VMs with free page reporting; see file-write.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { maxWriteBytes, writeFully } from '../../electron/core/file-write.ts';
import { tempDir } from '../helpers/servers.ts';

test('writeFully writes a 1 MiB block at its position in pieces of at most maxWriteBytes', async () => {
  const dir = await tempDir();
  const handle = await open(join(dir.path, 'out.bin'), 'w+');
  try {
    const head = randomBytes(1000);
    const block = randomBytes(1024 * 1024 + 7);
    const lengths: number[] = [];
    // The real handle, with each write() it is asked for recorded.
    const recording = {
      write: (buffer: Uint8Array, offset: number, length: number, position: number) => {
        lengths.push(length);
        return handle.write(buffer, offset, length, position);
      },
    } as unknown as FileHandle;
    await writeFully(handle, head, head.length, 0);
    await writeFully(recording, block, block.length - 7, head.length);
    const content = await readFile(join(dir.path, 'out.bin'));
    assert.ok(content.equals(Buffer.concat([head, block.subarray(0, block.length - 7)])), 'bytes as written, the 7 past `length` left out');
    assert.ok(lengths.length >= Math.ceil((block.length - 7) / maxWriteBytes), `${lengths.length} writes`);
    assert.ok(Math.max(...lengths) <= maxWriteBytes, `largest write ${Math.max(...lengths)} bytes`);
  } finally {
    await handle.close();
    await dir.remove();
  }
});
