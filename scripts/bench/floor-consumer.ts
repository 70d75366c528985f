/**
 * The worker thread of the broker floor: consumes the floor queue as a daemon would (manual acks, the
 * same prefetch) but does nothing with a message, and writes when each arrived into shared memory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import amqp from 'amqplib';

interface FloorData {
  readonly url: string;
  readonly queue: string;
  readonly prefetch: number;
  readonly receivedAt: SharedArrayBuffer;
}

const data = workerData as FloorData;
const receivedAt = new Float64Array(data.receivedAt);
const connection = await amqp.connect(data.url, { noDelay: true });
const channel = await connection.createChannel();
await channel.prefetch(data.prefetch);
await channel.consume(data.queue, (message) => {
  if (message === null) return;
  receivedAt[Number(message.properties.messageId)] = performance.timeOrigin + performance.now();
  channel.ack(message);
});
parentPort?.postMessage('ready');
parentPort?.once('message', () => {
  void connection.close().finally(() => process.exit(0));
});
