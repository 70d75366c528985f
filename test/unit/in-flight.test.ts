import { describe, expect, it } from 'vitest';
import { InFlight } from '../../src/adapters/in-flight.ts';
import type { Settlement, SourceItem } from '../../src/ports/source.ts';

const APPLIED: Settlement = { outcome: 'applied' };
const ITEM: SourceItem = {
  id: 'm1',
  kind: 'identity.user.updated',
  source: 'unit',
  origin: {},
  content: { decoded: false, reason: 'json', detail: 'unit' },
};

/** Hands ITEM to `handler`; what was settled and what failed. */
function hand(inFlight: InFlight, handler: () => Settlement | Promise<Settlement>, settle?: () => void) {
  const settled: Settlement[] = [];
  const failures: unknown[] = [];
  inFlight.hand(
    handler,
    ITEM,
    (s) => {
      settle?.();
      settled.push(s);
    },
    (e) => failures.push(e),
  );
  return { settled, failures };
}

describe('InFlight', () => {
  it('carries out a settlement given at once, at once, and counts nothing', () => {
    const inFlight = new InFlight();
    const { settled } = hand(inFlight, () => APPLIED);
    expect(settled).toEqual([APPLIED]);
    expect(inFlight.size).toBe(0);
  });

  it('counts a promised settlement until it is carried out, and is idle after', async () => {
    const inFlight = new InFlight();
    const answer = Promise.withResolvers<Settlement>();
    const { settled } = hand(inFlight, () => answer.promise);
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

  it('reports a handler that rejects, and settles nothing', async () => {
    const inFlight = new InFlight();
    const { settled, failures } = hand(inFlight, () => Promise.reject(new Error('bug')));
    await inFlight.idle();
    await Promise.resolve();
    expect(settled).toEqual([]);
    expect(failures).toEqual([new Error('bug')]);
  });

  it('reports a handler that throws, rather than throwing into the broker library', () => {
    const inFlight = new InFlight();
    const { settled, failures } = hand(inFlight, () => {
      throw new Error('bug');
    });
    expect(settled).toEqual([]);
    expect(failures).toEqual([new Error('bug')]);
    expect(inFlight.size).toBe(0);
  });

  it('reports a settlement that throws, at once or later', async () => {
    const inFlight = new InFlight();
    const closed = () => {
      throw new Error('channel closed');
    };
    expect(hand(inFlight, () => APPLIED, closed).failures).toEqual([new Error('channel closed')]);
    const later = hand(inFlight, () => Promise.resolve(APPLIED), closed);
    await inFlight.idle();
    expect(later.failures).toEqual([new Error('channel closed')]);
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
