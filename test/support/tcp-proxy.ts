import net from 'node:net';
import tls from 'node:tls';

export interface TestProxy {
  readonly port: number;
  /** Cut every proxied connection, as a network failure would. */
  cutAll(): void;
  /**
   * Relay nothing (in either direction) until thaw(): a silent partition; the connections stay open.
   * What is sent meanwhile is held and delivered on thaw, in order, as TCP retransmission would.
   */
  freeze(): void;
  thaw(): void;
  /** While refusing, every new connection is dropped at once: the host is down. */
  refuse(refusing: boolean): void;
  close(): Promise<void>;
}

/** A proxy to a local service, plain TCP or terminating TLS with the given certificate. */
export async function startProxy(targetPort: number, tlsServer?: tls.TlsOptions): Promise<TestProxy> {
  const sockets = new Set<net.Socket>();
  const held: Array<[net.Socket, Buffer]> = [];
  let frozen = false;
  let refusing = false;
  const relay = (client: net.Socket) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk) => {
        if (frozen) held.push([to, chunk]);
        else to.write(chunk);
      });
      from.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      from.on('close', () => {
        sockets.delete(from);
        to.destroy();
      });
    }
  };
  const server = tlsServer ? tls.createServer(tlsServer, relay) : net.createServer(relay);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cutAll = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    port: (server.address() as net.AddressInfo).port,
    cutAll,
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const [to, chunk] of held.splice(0)) if (!to.destroyed) to.write(chunk);
    },
    refuse: (on) => {
      refusing = on;
    },
    close: () =>
      new Promise((resolve) => {
        cutAll();
        server.close(() => resolve());
      }),
  };
}
