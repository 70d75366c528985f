import type { Channel, Message } from 'amqplib';

/**
 * Refuses a message body over the limit before it is read: amqplib buffers a whole body before it hands
 * the message over, so without this only the broker's `max_message_size` (RabbitMQ: 128 MiB by
 * default, not ours to set on a central broker) bounds what one message costs us, and a message that
 * kills the daemon comes back after every restart ([ADR 0016](../../../docs/decisions/0016-amqp091-body-limit.md)).
 *
 * The content header announces the body's size. For one over the limit the channel is shown the header
 * with size 0, so amqplib delivers the message at once with an empty body; the body frames that follow
 * are counted and dropped here. `oversizedBody` then tells the consumer the announced size, and the
 * message is parked unread.
 *
 * Written against amqplib 2.3: `Channel#acceptMessageFrame(frame)` receives every header and body frame
 * of the channel (lib/channel.js), a header frame being `{id: 60 (basic), size, fields}` and a body
 * frame `{content}` without an id. amqplib has no hook for this; the wrapper stays on the one channel.
 */
export function limitBodies(channel: Channel, maxBytes: number): void {
  const frames = channel as unknown as Partial<FrameChannel>;
  const accept = frames.acceptMessageFrame;
  if (typeof accept !== 'function') {
    // An amqplib that moved this must not leave the daemon unprotected without anyone noticing.
    throw new Error(
      'amqplib has no Channel#acceptMessageFrame: the body limit cannot be installed (ADR 0016)',
    );
  }
  /** Body bytes of a refused message still to drop. */
  let dropping = 0;
  frames.acceptMessageFrame = function (this: FrameChannel, frame: Frame): void {
    if (frame.id === undefined && dropping > 0) {
      dropping = Math.max(0, dropping - (frame.content?.length ?? 0));
      return;
    }
    // Anything but a body frame ends a refused body (the broker never interleaves; amqplib judges the rest).
    dropping = 0;
    if (frame.id === BASIC_HEADER && typeof frame.size === 'number' && frame.size > maxBytes) {
      const properties = { ...frame.fields };
      refused.set(properties, frame.size);
      dropping = frame.size;
      accept.call(this, { ...frame, fields: properties, size: 0 });
      return;
    }
    accept.call(this, frame);
  };
}

/** The body size the broker announced for a message refused unread, else null. */
export function oversizedBody(message: Message): number | null {
  return refused.get(message.properties) ?? null;
}

/** amqplib's frame id of a content header of class basic (its defs.BasicProperties). */
const BASIC_HEADER = 60;

/** Keyed by the message's properties object, which amqplib hands on as `message.properties`. */
const refused = new WeakMap<object, number>();

interface Frame {
  readonly id?: number;
  readonly size?: number;
  readonly fields?: object;
  readonly content?: Buffer;
}

interface FrameChannel {
  acceptMessageFrame(frame: Frame): void;
}
