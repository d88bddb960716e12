// Runs an operation again on transient failures, waiting as retry-policy.ts says.
import { setTimeout as sleep } from 'node:timers/promises';
import { ReelpackError, toReelpackError } from '../errors.ts';
import { retryDelay } from './retry-policy.ts';

export async function withRetry<T>(
  operation: () => Promise<T>,
  options: { retries: number; signal?: AbortSignal | undefined; onRetry?: (error: ReelpackError, delayMs: number, attempt: number) => void },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (thrown) {
      const error = toReelpackError(thrown);
      const delay = retryDelay({ attempt, maxRetries: options.retries, code: error.code, statusCode: error.statusCode, retryAfterMs: error.retryAfterMs });
      if (delay === 0 || options.signal?.aborted) throw error;
      options.onRetry?.(error, delay, attempt);
      await sleep(delay, undefined, { signal: options.signal }).catch(() => {
        throw new ReelpackError('CANCELLED', 'cancelled');
      });
    }
  }
}
