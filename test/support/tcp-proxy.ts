import net from 'node:net';
import tls from 'node:tls';

export interface TestProxy {
  readonly port: number;
  /** Cut every proxied connection, as a network failure would. */
  cutAll(): void;
  close(): Promise<void>;
}

/** A proxy to a local service, plain TCP or terminating TLS with the given certificate. */
export async function startProxy(targetPort: number, tlsServer?: tls.TlsOptions): Promise<TestProxy> {
  const sockets = new Set<net.Socket>();
  const relay = (client: net.Socket) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  };
  const server = tlsServer ? tls.createServer(tlsServer, relay) : net.createServer(relay);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cutAll = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    port: (server.address() as net.AddressInfo).port,
    cutAll,
    close: () =>
      new Promise((resolve) => {
        cutAll();
        server.close(() => resolve());
      }),
  };
}
