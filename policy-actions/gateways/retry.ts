import { isRetryable } from '../../pipeline/core/errors.js';

/**
 * Run an outbound gateway call, retrying retryable failures (MeshwardError.retryable) with full-jitter exponential
 * backoff: attempt n waits a random time in [0, base * 2^n). Non-retryable errors are thrown at once.
 */
export async function withRetry<T>(
  fn: () => Promise<T>,
  opts: { retries: number; baseMs: number; sleep?: (ms: number) => Promise<void> },
): Promise<T> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= opts.retries || !isRetryable(err)) throw err;
      await sleep(Math.random() * opts.baseMs * 2 ** attempt);
    }
  }
}
