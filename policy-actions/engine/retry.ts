import { isRetryable } from '../../pipeline/core/errors.js';

export interface RetryPolicy {
  /** total attempts including the first */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** full-jitter exponential backoff: a random delay in [0, min(max, base * 2^attempt)] */
export function backoffDelay(attempt: number, p: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** attempt);
  return Math.round(random() * cap);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Run `fn` until it succeeds, a non-retryable error is thrown, or the attempts run out. Errors that are not
 * MeshwardErrors (network failures, timeouts) count as retryable. `onAttempt` sees every failure.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  p: RetryPolicy,
  onFailure?: (err: unknown, attempt: number, willRetry: boolean) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const retryable = isRetryable(err) || !(err instanceof Error && 'code' in err && 'retryable' in err);
      const willRetry = retryable && attempt + 1 < p.maxAttempts;
      onFailure?.(err, attempt, willRetry);
      if (!willRetry) throw err;
      await sleep(backoffDelay(attempt, p));
    }
  }
}
