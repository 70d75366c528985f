/**
 * At most one call per `intervalMs`; the calls swallowed in between are counted and passed to the next
 * one that goes through. During an outage every lane retries on its own: without this, the log would
 * get a line per lane per attempt.
 */
export function throttled<Args extends unknown[]>(
  intervalMs: number,
  fn: (suppressed: number, ...args: Args) => void,
  now: () => number = Date.now,
): (...args: Args) => void {
  let last = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (...args: Args) => {
    const t = now();
    if (t - last < intervalMs) {
      suppressed++;
      return;
    }
    last = t;
    fn(suppressed, ...args);
    suppressed = 0;
  };
}
