import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isServerDown, parseRetryAfter, retryBaseMs, retryCapMs, retryDelay, serverDownDelay } from '../../../electron/core/download/retry-policy.ts';

test('backs off exponentially with jitter, capped', () => {
  const low = [1, 2, 3, 4].map((attempt) => retryDelay({ attempt, maxRetries: 10, code: 'NETWORK', random: 0 }));
  const high = [1, 2, 3, 4].map((attempt) => retryDelay({ attempt, maxRetries: 10, code: 'NETWORK', random: 0.999999 }));
  assert.deepEqual(low, [250, 500, 1000, 2000]);
  assert.deepEqual(high, [500, 1000, 2000, 4000]);
  assert.equal(retryDelay({ attempt: 20, maxRetries: 30, code: 'STALLED', random: 0.999999 }), retryCapMs);
});

test('stops after maxRetries and for permanent errors', () => {
  assert.equal(retryDelay({ attempt: 4, maxRetries: 3, code: 'NETWORK', random: 0 }), 0);
  for (const statusCode of [400, 401, 403, 404, 410]) {
    assert.equal(retryDelay({ attempt: 1, maxRetries: 3, code: 'HTTP_STATUS', statusCode }), 0, String(statusCode));
  }
  for (const code of ['DISK_FULL', 'CANCELLED', 'BAD_REDIRECT', 'USAGE'] as const) {
    assert.equal(retryDelay({ attempt: 1, maxRetries: 3, code }), 0, code);
  }
});

test('retries 5xx, 429 and 408, honouring Retry-After', () => {
  for (const statusCode of [408, 429, 500, 502, 503, 504]) {
    assert.ok(retryDelay({ attempt: 1, maxRetries: 3, code: 'HTTP_STATUS', statusCode }) > 0, String(statusCode));
  }
  assert.equal(retryDelay({ attempt: 1, maxRetries: 3, code: 'HTTP_STATUS', statusCode: 503, retryAfterMs: 7000 }), 7000);
  assert.equal(retryDelay({ attempt: 1, maxRetries: 3, code: 'HTTP_STATUS', statusCode: 503, retryAfterMs: 3_600_000 }), 0);
});

test('parses Retry-After as seconds or an HTTP date', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now), 10_000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(undefined), undefined);
});

test('a server that cannot be reached is told apart from a file that failed, and waited for with the same capped backoff', () => {
  assert.equal(isServerDown({ code: 'NETWORK', serverUnreachable: true }), true);
  assert.equal(isServerDown({ code: 'NETWORK' }), false, 'a reset mid-body is the file\'s failure');
  assert.equal(isServerDown({ code: 'HTTP_STATUS', statusCode: 503 }), true, 'a proxy in front of a restarting server');
  assert.equal(isServerDown({ code: 'HTTP_STATUS', statusCode: 503, retryAfterMs: 5000 }), false, 'Retry-After is obeyed instead');
  assert.equal(isServerDown({ code: 'HTTP_STATUS', statusCode: 500 }), false);
  assert.equal(serverDownDelay(1, 0), retryBaseMs / 2);
  assert.equal(serverDownDelay(40, 1), retryCapMs);
});
