import net from 'node:net';
import { freePort, startMemcached } from './tls.ts';
import { waitFor } from './wait.ts';

export interface RestartableMemcached {
  readonly address: string;
  readonly port: number;
  /** Kill it (everything it held is lost) and wait until nothing listens on its port. */
  stop(): Promise<void>;
  /** Start it again, empty, on the same port. */
  start(): Promise<void>;
  restart(): Promise<void>;
}

/** A memcached of the test's own on a fixed port, so it can be stopped and started again (empty). */
export async function restartableMemcached(): Promise<RestartableMemcached> {
  const port = await freePort();
  let running = await startMemcached(['-m', '64'], port);
  const stop = async () => {
    running.stop();
    await waitFor('memcached to stop', () => refused(port));
  };
  const start = async () => {
    running = await startMemcached(['-m', '64'], port);
  };
  return {
    address: running.address,
    port,
    stop,
    start,
    async restart() {
      await stop();
      await start();
    },
  };
}

/** True once nothing listens on `port` any more. */
function refused(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.on('error', () => resolve(true));
  });
}
