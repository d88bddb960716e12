// The rename that never replaces a file, also where hard links cannot be made (FAT, exFAT,
// SMB: a file system this machine cannot mount in a test, so `link` is made to fail as they do).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renameNoOverwrite } from '../../electron/core/rename-no-overwrite.ts';

const failingLink = (code: string) => async () => {
  throw Object.assign(new Error(`link: ${code}`), { code });
};

test('where a hard link cannot be made (exFAT on Windows answers EISDIR), the file is still moved, never over another', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'reelpack-rename-'));
  try {
    for (const code of ['EISDIR', 'EPERM', 'ENOTSUP', 'EINVAL', 'EACCES']) {
      await writeFile(join(dir, 'a.part'), code);
      assert.equal(await renameNoOverwrite(join(dir, 'a.part'), join(dir, 'a.zip'), failingLink(code)), true, code);
      assert.equal(await readFile(join(dir, 'a.zip'), 'utf8'), code);
      await writeFile(join(dir, 'b.part'), 'new');
      assert.equal(await renameNoOverwrite(join(dir, 'b.part'), join(dir, 'a.zip'), failingLink(code)), false, `${code}: taken`);
      assert.equal(await readFile(join(dir, 'a.zip'), 'utf8'), code, 'the existing file is left alone');
      await rm(join(dir, 'a.zip'));
      await rm(join(dir, 'b.part'));
    }
    // With hard links: a taken name is refused atomically, and a free one leaves one name.
    await writeFile(join(dir, 'c.part'), 'c');
    await writeFile(join(dir, 'taken.zip'), 'theirs');
    assert.equal(await renameNoOverwrite(join(dir, 'c.part'), join(dir, 'taken.zip')), false);
    assert.equal(await renameNoOverwrite(join(dir, 'c.part'), join(dir, 'c.zip')), true);
    assert.deepEqual((await readdir(dir)).sort(), ['c.zip', 'taken.zip']);
    await assert.rejects(renameNoOverwrite(join(dir, 'gone.part'), join(dir, 'gone.zip')), { code: 'ENOENT' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
