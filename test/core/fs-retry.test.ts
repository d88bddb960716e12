// Renames and deletes on Windows are retried while another program (an antivirus scanner, the
// search indexer) holds the file for a moment; elsewhere the same errors are real and thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryWhileLocked } from '../../electron/core/fs-retry.ts';

const lockedTwice = () => {
  let calls = 0;
  return {
    calls: () => calls,
    operation: async () => {
      calls++;
      if (calls <= 2) throw Object.assign(new Error('EBUSY: resource busy or locked'), { code: 'EBUSY' });
      return 'moved';
    },
  };
};

test('on Windows a file held for a moment is waited for; elsewhere, or for other errors, the error is thrown at once', async () => {
  const windows = lockedTwice();
  assert.equal(await retryWhileLocked(windows.operation, 'win32', [1, 1, 1]), 'moved');
  assert.equal(windows.calls(), 3);

  const linux = lockedTwice();
  await assert.rejects(retryWhileLocked(linux.operation, 'linux', [1, 1, 1]), { code: 'EBUSY' });
  assert.equal(linux.calls(), 1);

  const held = lockedTwice();
  await assert.rejects(retryWhileLocked(held.operation, 'win32', [1]), { code: 'EBUSY' }, 'gives up after its delays');
  assert.equal(held.calls(), 2);

  let other = 0;
  await assert.rejects(retryWhileLocked(async () => {
    other++;
    throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  }, 'win32', [1, 1]), { code: 'ENOENT' });
  assert.equal(other, 1);
});
