// SyncBehind: background syncs every syncBehindBytes, never two at once, failures left to the
// final fsync. The sync function is the test's own so each start and end can be observed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncBehind, syncBehindBytes } from '../../electron/core/fs-sync.ts';

test('SyncBehind starts a sync after every syncBehindBytes written, one at a time', async () => {
  const started: Array<{ finish: (ok: boolean) => void }> = [];
  const behind = new SyncBehind(() => new Promise<void>((resolve, reject) => {
    started.push({ finish: (ok) => (ok ? resolve() : reject(new Error('EIO'))) });
  }));
  behind.wrote(syncBehindBytes - 1);
  assert.equal(started.length, 0, 'not before syncBehindBytes');
  behind.wrote(1);
  assert.equal(started.length, 1);
  behind.wrote(3 * syncBehindBytes);
  assert.equal(started.length, 1, 'never a second one while one runs');
  let settled = false;
  const waiting = behind.settled().then(() => (settled = true));
  await Promise.resolve();
  assert.equal(settled, false, 'settled() waits for the running sync');
  started[0]!.finish(true);
  await waiting;
  behind.wrote(syncBehindBytes);
  assert.equal(started.length, 2, 'the next one starts once the first is done');
  started[1]!.finish(false); // a failed sync is not thrown here: the final fsync reports it
  await behind.settled();
  behind.wrote(syncBehindBytes);
  assert.equal(started.length, 3, 'a failure does not stop later syncs');
  started[2]!.finish(true);
  await behind.settled();
});
