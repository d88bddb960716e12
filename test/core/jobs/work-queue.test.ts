// The download queue with batches of the size users have: every item once, in order, and a
// retrying item comes back after its delay without holding a slot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../../../electron/core/jobs/work-queue.ts';

test('300 000 items: every one is taken once, in order (the constructor once overflowed the stack at ~130 000)', async () => {
  const count = 300_000;
  const queue = new WorkQueue(Array.from({ length: count }, (_, i) => i));
  assert.equal(queue.pending, count);
  let expected = 0;
  for (let item = await queue.take(); item !== null; item = await queue.take()) {
    assert.equal(item, expected++);
    queue.finish();
  }
  assert.equal(expected, count);
  assert.equal(queue.pending, 0);
});

test('an item given back for a retry is taken again after its delay, after the ready ones', async () => {
  const queue = new WorkQueue(['a', 'b']);
  const first = await queue.take();
  queue.retryLater(first!, 30);
  assert.equal(queue.pending, 2);
  assert.equal(await queue.take(), 'b');
  queue.finish();
  const started = Date.now();
  assert.equal(await queue.take(), 'a');
  assert.ok(Date.now() - started >= 20, 'not before its delay');
  queue.finish();
  assert.equal(await queue.take(), null);
});

test('a whole batch given back for retries (the server went down) comes back once each, soonest first, in order within a delay', async () => {
  const count = 30_000;
  const queue = new WorkQueue(Array.from({ length: count }, (_, i) => i));
  // Longer than giving them all back takes, so none is due again before the last is given back.
  const delayOf = (i: number) => [1500, 500, 1000][i % 3]!;
  for (let i = 0; i < count; i++) {
    const item = (await queue.take())!;
    queue.retryLater(item, delayOf(item));
  }
  assert.equal(queue.pending, count);
  const seen: number[] = [];
  for (let item = await queue.take(); item !== null; item = await queue.take()) {
    seen.push(item);
    queue.finish();
  }
  assert.equal(seen.length, count);
  assert.equal(new Set(seen).size, count, 'each item once');
  for (const delay of [500, 1000, 1500]) {
    const group = seen.filter((i) => delayOf(i) === delay);
    assert.deepEqual(group, [...group].sort((a, b) => a - b), `the items with a ${delay} ms delay come back in the order they were given back`);
  }
  assert.equal(delayOf(seen[0]!), 500);
  assert.equal(delayOf(seen.at(-1)!), 1500);
});

test('waiting items a caller wakes are due at once, in the order they were given back; the others keep their delay', async () => {
  const queue = new WorkQueue(['a', 'b', 'c', 'd']);
  for (let i = 0; i < 4; i++) {
    const item = (await queue.take())!;
    queue.retryLater(item, 60_000);
  }
  // A worker is already asleep until the first delay ends: waking must rouse it.
  const taken = queue.take();
  assert.deepEqual(queue.wakeWaiting((item) => item === 'c' || item === 'a'), ['a', 'c']);
  assert.equal(await taken, 'a');
  assert.equal(await queue.take(), 'c');
  assert.deepEqual(queue.wakeWaiting((item) => item === 'a'), [], 'an item no longer waiting is not woken');
  assert.equal(queue.pending, 2, 'b and d still wait out their delay');
  queue.close();
});
