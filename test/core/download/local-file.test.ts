// Reading a file of a local or mounted source: its bytes and SHA-256, and the ways its path can
// stop leading to a readable file since the listing, each failing that file at once (a 404 or
// 403 for the retry policy) instead of being retried, blocking, or stopping the job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readLocalFile } from '../../../electron/core/download/local-file.ts';
import type { ReelpackError } from '../../../electron/core/errors.ts';
import { tempDir } from '../../helpers/servers.ts';

const read = (path: string) => readLocalFile(path, null, { onBytes: () => {} });

test('a local file is read whole, with its SHA-256', async () => {
  const dir = await tempDir();
  try {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    await writeFile(join(dir.path, 'a.mp4'), data);
    const result = await read(join(dir.path, 'a.mp4'));
    assert.equal(result.size, data.length);
    assert.equal(result.sha256, createHash('sha256').update(data).digest('hex'));
  } finally {
    await dir.remove();
  }
});

test('a path that no longer leads to a readable file fails that file for good, at once', async () => {
  const dir = await tempDir();
  try {
    await writeFile(join(dir.path, 'file'), 'x');
    await mkdir(join(dir.path, 'now-a-folder'));
    execFileSync('mkfifo', [join(dir.path, 'now-a-pipe')]); // nobody writes: a blocking open would hang here
    const cases: Array<[string, number, RegExp]> = [
      [join(dir.path, 'gone.mp4'), 404, /ENOENT/],
      [join(dir.path, 'file', 'under-a-file.mp4'), 404, /ENOTDIR/],
      [join(dir.path, 'now-a-folder'), 403, /not a regular file/],
      [join(dir.path, 'now-a-pipe'), 403, /not a regular file/],
    ];
    for (const [path, status, message] of cases) {
      await assert.rejects(read(path), (error: ReelpackError) => {
        assert.deepEqual([error.code, error.statusCode], ['HTTP_STATUS', status], `${path}: ${error.message}`);
        assert.match(error.message, message);
        return true;
      });
    }
  } finally {
    await dir.remove();
  }
});
