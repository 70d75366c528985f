import { describe, expect, it } from 'vitest';
import { throttled } from '../../src/observability/throttle.ts';

describe('throttled: one log line per interval during an outage', () => {
  it('lets one call through per interval and reports how many it swallowed', () => {
    let t = 0;
    const calls: Array<[number, string]> = [];
    const log = throttled(
      1_000,
      (suppressed, what: string) => calls.push([suppressed, what]),
      () => t,
    );
    log('a');
    log('b');
    log('c');
    t = 999;
    log('d');
    t = 1_000;
    log('e');
    t = 5_000;
    log('f');
    expect(calls).toEqual([
      [0, 'a'],
      [3, 'e'],
      [0, 'f'],
    ]);
  });
});
