import { describe, expect, it } from 'vitest';
import { PendingReads } from '../../src/actions/pending-reads.ts';

/** A PendingReads whose reads are recorded, and held until `release()` when `hold` is set. */
function recorded(batchSize: number, hold = false) {
  const batches: string[][] = [];
  let gate = Promise.withResolvers<void>();
  const pending = new PendingReads(
    async (keys) => {
      batches.push(keys);
      if (hold) await gate.promise;
    },
    batchSize,
    () => {},
  );
  const release = () => {
    const open = gate;
    gate = Promise.withResolvers<void>();
    open.resolve();
  };
  return { pending, batches, release };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('PendingReads', () => {
  it('reads keys in batches, in the order they arrived', async () => {
    const { pending, batches } = recorded(2);
    for (const key of ['a', 'b', 'c', 'd', 'e']) pending.add(key);
    await pending.drained();
    expect(batches).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(pending.size).toBe(0);
  });

  it('reads a key added again in its new place, and a dropped key not at all', async () => {
    const { pending, batches } = recorded(10);
    for (const key of ['a', 'b', 'c']) pending.add(key);
    pending.add('a');
    pending.drop('b');
    await pending.drained();
    expect(batches).toEqual([['c', 'a']]);
  });

  it('starts the next batch with the oldest key left while one was read, unless it moved or went', async () => {
    const { pending, batches, release } = recorded(1, true);
    for (const key of ['a', 'b', 'c', 'd']) pending.add(key);
    await tick();
    expect(batches).toEqual([['a']]);
    // b is the oldest left; it is dropped, and c added again (moved last), while a is read.
    const drained = pending.drained();
    release();
    await tick();
    expect(batches).toEqual([['a'], ['b']]);
    pending.drop('c');
    pending.add('c');
    release();
    await tick();
    release();
    await tick();
    release();
    await drained;
    expect(batches).toEqual([['a'], ['b'], ['d'], ['c']]);
  });

  it('tells when the keys added before a call are read, not those added after', async () => {
    const { pending, batches, release } = recorded(1, true);
    pending.add('a');
    pending.add('b');
    let drained = false;
    void pending.drained().then(() => {
      drained = true;
    });
    pending.add('c');
    await tick();
    release();
    await tick();
    expect(drained).toBe(false);
    release();
    await tick();
    expect(drained).toBe(true);
    // c is being read: added after the call, it was not waited for.
    expect(batches).toEqual([['a'], ['b'], ['c']]);
    release();
    await pending.drained();
    expect(batches).toEqual([['a'], ['b'], ['c']]);
  });

  it('keeps the order over many batches as the queue grows and shrinks', async () => {
    const { pending, batches } = recorded(256);
    const keys = Array.from({ length: 10_000 }, (_, i) => `k${i}`);
    for (const key of keys) pending.add(key);
    await pending.drained();
    expect(batches.flat()).toEqual(keys);
    expect(batches.length).toBe(Math.ceil(10_000 / 256));
  });
});
