import net from 'node:net';
import tls from 'node:tls';

export interface TestProxy {
  readonly port: number;
  /** Cut every proxied connection, as a network failure would. */
  cutAll(): void;
  /** Relay nothing (in either direction) until thaw(): a silent partition; the connections stay open. */
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

/** A proxy to a local service, plain TCP or terminating TLS with the given certificate. */
export async function startProxy(targetPort: number, tlsServer?: tls.TlsOptions): Promise<TestProxy> {
  const sockets = new Set<net.Socket>();
  let frozen = false;
  const relay = (client: net.Socket) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk) => {
        if (!frozen) to.write(chunk);
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
    },
    close: () =>
      new Promise((resolve) => {
        cutAll();
        server.close(() => resolve());
      }),
  };
}
