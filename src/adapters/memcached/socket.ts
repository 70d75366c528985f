import net from 'node:net';
import tls from 'node:tls';
import type { ServerAddress } from '../../ports/cache-server.ts';

export interface SocketOptions {
  readonly connectTimeoutMs: number;
  /**
   * TLS options (CA, client cert, …), asked for at every connect so that files rotated on disk are
   * used by the next connection; plain TCP when null.
   */
  readonly tls: (() => tls.ConnectionOptions) | null;
}

/**
 * A connected (and, with TLS, handshaken) socket to one server, or a rejection within the connect
 * timeout. The caller owns the socket from then on, including its 'error' events.
 */
export function connectSocket(server: ServerAddress, options: SocketOptions): Promise<net.Socket> {
  const { host, port } = server;
  return new Promise((resolve, reject) => {
    // Inside the promise: a TLS file that cannot be read now rejects this connect, like a refusal.
    const tlsOptions = options.tls?.() ?? null;
    const socket = tlsOptions
      ? tls.connect({ ...tlsOptions, host, port, servername: tlsOptions.servername ?? sniName(host) })
      : net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy(new Error(`connect timed out after ${options.connectTimeoutMs} ms`));
    }, options.connectTimeoutMs);
    socket.once('error', (cause) => {
      clearTimeout(timer);
      reject(cause);
    });
    socket.once(tlsOptions ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      resolve(socket);
    });
  });
}

// TLS forbids an IP address as SNI; send none and verify against `servername` or the certificate's IP SAN.
function sniName(host: string): string | undefined {
  return net.isIP(host) === 0 ? host : undefined;
}
