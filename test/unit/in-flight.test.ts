import { describe, expect, it } from 'vitest';
import { InFlight } from '../../src/adapters/in-flight.ts';
import type { Settlement } from '../../src/ports/source.ts';

const APPLIED: Settlement = { outcome: 'applied' };

describe('InFlight', () => {
  it('carries out a settlement given at once, at once, and counts nothing', () => {
    const inFlight = new InFlight();
    const settled: Settlement[] = [];
    inFlight.settle(
      APPLIED,
      (s) => settled.push(s),
      () => {},
    );
    expect(settled).toEqual([APPLIED]);
    expect(inFlight.size).toBe(0);
  });

  it('counts a promised settlement until it is carried out, and is idle after', async () => {
    const inFlight = new InFlight();
    const answer = Promise.withResolvers<Settlement>();
    const settled: Settlement[] = [];
    inFlight.settle(
      answer.promise,
      (s) => settled.push(s),
      () => {},
    );
    expect(inFlight.size).toBe(1);
    let idle = false;
    void inFlight.idle().then(() => {
      idle = true;
    });
    await Promise.resolve();
    expect(idle).toBe(false);
    answer.resolve({ outcome: 'retry' });
    await inFlight.idle();
    expect(idle).toBe(true);
    expect(settled).toEqual([{ outcome: 'retry' }]);
    expect(inFlight.size).toBe(0);
  });

  it('reports a failed handler and settles nothing', async () => {
    const inFlight = new InFlight();
    const failures: unknown[] = [];
    const settled: Settlement[] = [];
    inFlight.settle(
      Promise.reject(new Error('bug')),
      (s) => settled.push(s),
      (e) => failures.push(e),
    );
    await inFlight.idle();
    expect(settled).toEqual([]);
    expect(failures).toEqual([new Error('bug')]);
  });

  it('waits for tracked work, failed or not', async () => {
    const inFlight = new InFlight();
    const work = Promise.withResolvers<void>();
    inFlight.track(work.promise);
    inFlight.track(Promise.reject(new Error('gap not filled')));
    await Promise.resolve();
    await Promise.resolve();
    expect(inFlight.size).toBe(1);
    work.resolve();
    await inFlight.idle();
    expect(inFlight.size).toBe(0);
  });
});
