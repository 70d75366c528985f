import * as z from 'zod';

/** Node runs a timer longer than 2^31 − 1 ms (about 24.8 days) after 1 ms, with only a warning. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A field in milliseconds that the daemon waits for with a timer. The error names the limit and the
 * fix; zod prefixes the field path.
 */
export function timerMs(): z.ZodInt {
  return z.int().max(MAX_TIMER_MS, {
    message: `at most ${MAX_TIMER_MS} ms (about 24.8 days), the longest timer Node can run: lower it`,
  });
}
