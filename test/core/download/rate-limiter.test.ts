import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../../electron/core/download/rate-limiter.ts';

test('readers are paused so the average stays at the limit, with at most a short burst', () => {
  const limiter = new RateLimiter(1000); // 1000 bytes/s
  const t0 = 1_000_000;
  assert.equal(limiter.take(100, t0), 0, 'a small first chunk fits the burst allowance');
  assert.equal(limiter.take(1000, t0), 1000, 'then a second of data costs a second');
  // Two readers sharing the budget: the second waits behind the first.
  assert.equal(limiter.take(500, t0), 1500);
  // After a long idle period only the burst is credited, not the whole gap.
  assert.equal(limiter.take(1000, t0 + 60_000), 900);
});
