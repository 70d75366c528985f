import { describe, expect, it } from 'vitest';
import { AckBatcher } from '../../src/adapters/amqp091/ack-batcher.ts';

/** A batcher whose flushes run when the test says, recording every ack it sends. */
function batcher() {
  const sent: Array<[tag: number, multiple: boolean]> = [];
  let pending: (() => void) | null = null;
  let scheduled = 0;
  const b = new AckBatcher(
    (tag, multiple) => sent.push([tag, multiple]),
    (flush) => {
      scheduled++;
      pending = flush;
    },
  );
  const tick = () => {
    const flush = pending;
    pending = null;
    flush?.();
  };
  return { b, sent, tick, scheduled: () => scheduled };
}

describe('AckBatcher: a channel’s acks in as few frames as their order allows', () => {
  it('acks a tick’s in-order deliveries with one multiple ack, scheduled once', () => {
    const { b, sent, tick, scheduled } = batcher();
    for (const tag of [1, 2, 3]) b.delivered(tag);
    for (const tag of [1, 2, 3]) b.ack(tag);
    expect(sent).toEqual([]);
    tick();
    expect(sent).toEqual([[3, true]]);
    expect(scheduled()).toBe(1);
    expect(b.unsettled).toBe(0);
  });

  it('never lets a multiple ack cover a delivery still in progress: acks behind it go one by one', () => {
    const { b, sent, tick } = batcher();
    for (const tag of [1, 2, 3]) b.delivered(tag);
    b.ack(2);
    b.ack(3);
    tick();
    expect(sent).toEqual([
      [2, false],
      [3, false],
    ]);
    b.ack(1);
    tick();
    // 2 and 3 are settled at the broker already: the multiple ack may stop at 1.
    expect(sent.at(-1)).toEqual([1, true]);
    expect(b.unsettled).toBe(0);
  });

  it('covers acked deliveries around a rejected one, which the broker no longer holds', () => {
    const { b, sent, tick } = batcher();
    for (const tag of [1, 2, 3]) b.delivered(tag);
    b.ack(1);
    b.settled(2);
    b.ack(3);
    tick();
    expect(sent).toEqual([[3, true]]);
  });

  it('acks the head once it completes, without resending what went before', () => {
    const { b, sent, tick } = batcher();
    for (const tag of [1, 2, 3, 4]) b.delivered(tag);
    b.ack(1);
    b.ack(3);
    tick();
    expect(sent).toEqual([
      [1, true],
      [3, false],
    ]);
    b.ack(2);
    b.ack(4);
    tick();
    expect(sent.slice(2)).toEqual([[4, true]]);
  });

  it('flushes on demand (before the channel closes) and sends nothing when nothing is acked', () => {
    const { b, sent } = batcher();
    b.delivered(1);
    b.flush();
    expect(sent).toEqual([]);
    b.ack(1);
    b.flush();
    expect(sent).toEqual([[1, true]]);
  });

  it('acks a tag it was never told of at once, alone', () => {
    const { b, sent } = batcher();
    b.ack(7);
    expect(sent).toEqual([[7, false]]);
  });
});
