/**
 * The worker thread of VisibilityWatcher: polls each server for the markers of the events published so
 * far and not yet seen there, about every millisecond, and writes when each was first seen into shared
 * memory. A poll every millisecond adds at most about a millisecond to each figure; polling back to back
 * took more CPU than the daemon (the bench shares two cores with the daemon, RabbitMQ and memcached).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MemcachedConnection } from '../../src/adapters/memcached/connection.ts';
import { parseMemcachedServer } from '../../src/config/memcached-servers.ts';

interface PollerData {
  readonly servers: readonly string[];
  readonly keyPrefix: string;
  readonly count: number;
  readonly published: SharedArrayBuffer;
  readonly seenAt: readonly SharedArrayBuffer[];
}

const POLL_INTERVAL_MS = 1;
/** Keys asked for in one multi-get. */
const CHUNK = 500;
const data = workerData as PollerData;
const published = new Int32Array(data.published);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let stopped = false;
parentPort?.once('message', () => {
  stopped = true;
});

async function poll(connection: MemcachedConnection, seenAt: Float64Array): Promise<void> {
  let firstUnseen = 0;
  while (!stopped) {
    const upTo = Atomics.load(published, 0);
    while (firstUnseen < upTo && seenAt[firstUnseen] !== 0) firstUnseen++;
    const keys: string[] = [];
    for (let seq = firstUnseen; seq < upTo && keys.length < CHUNK; seq++) {
      if (seenAt[seq] === 0) keys.push(`${data.keyPrefix}${seq}`);
    }
    if (keys.length > 0) {
      const found = await connection.gets(keys);
      const now = performance.timeOrigin + performance.now();
      for (const key of found.keys()) seenAt[Number(key.slice(data.keyPrefix.length))] = now;
    }
    await sleep(POLL_INTERVAL_MS);
  }
  connection.close();
}

const connections = data.servers.map(
  (server) =>
    new MemcachedConnection(parseMemcachedServer(server), {
      connectTimeoutMs: 2_000,
      requestTimeoutMs: 5_000,
      tls: null,
    }),
);
// Connected and warmed up before the first event is published.
for (const c of connections) await c.version();
parentPort?.postMessage('ready');
await Promise.all(connections.map((c, i) => poll(c, new Float64Array(data.seenAt[i] as SharedArrayBuffer))));
