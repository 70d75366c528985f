/**
 * The broker floor for a backlog: its own process, as the daemon is, consuming a queue with manual acks
 * (one `multiple` ack per tick, as the daemon sends them) and the daemon's prefetch, doing nothing with
 * a message. Prints, as JSON, when it was consuming and
 * when the last of `count` messages was acknowledged (epoch milliseconds), then exits.
 *   node scripts/bench/drain-floor.ts URL QUEUE PREFETCH COUNT
 */
import amqp from 'amqplib';

const [url, queue, prefetch, count] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
const connection = await amqp.connect(url as string, { noDelay: true });
const channel = await connection.createChannel();
await channel.prefetch(Number(prefetch));
// Acknowledged as the daemon does (AckBatcher): the newest delivery of a tick with `multiple`.
let acked = 0;
let newest: amqp.ConsumeMessage | null = null;
const done = Promise.withResolvers<number>();
await channel.consume(queue as string, (message) => {
  if (message === null) return;
  if (newest === null) {
    setImmediate(() => {
      if (newest !== null) channel.ack(newest, true);
      newest = null;
    });
  }
  newest = message;
  if (++acked === Number(count)) setImmediate(() => done.resolve(now()));
});
const consumingAt = now();
const lastAckAt = await done.promise;
await connection.close();
console.log(JSON.stringify({ consumingAt, lastAckAt }));
