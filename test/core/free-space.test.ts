// The free-space check before a job: refuses when short, and stays out of the way where the
// file system cannot tell (a job must not fail before it starts for want of a figure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { checkFreeSpace } from '../../electron/core/free-space.ts';

test('short of space is DISK_FULL; a file system that cannot say how much it has is not checked', async () => {
  await assert.rejects(checkFreeSpace(tmpdir(), 2 ** 60, 'for the test'), { code: 'DISK_FULL', message: /^not enough free space for the test: need 1048576\.0 TB, .+ free in / });
  await checkFreeSpace(tmpdir(), 1, 'for the test');
  await checkFreeSpace('/proc', 2 ** 60, 'for the test'); // procfs: no blocks to count
  await checkFreeSpace('/no/such/folder', 2 ** 60, 'for the test'); // statfs fails
});
