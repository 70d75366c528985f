import http from 'node:http';
import https from 'node:https';
import type tls from 'node:tls';
import { errorMessage } from '../../util/errors.ts';
import { KeystoneBadAnswer, KeystoneUnreachable } from './errors.ts';

export interface HttpSettings {
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /**
   * CA, client certificate and key for https, asked for at every request: files rotated on disk are
   * used from then on (the agent keeps one connection per distinct set); ignored for http.
   */
  readonly tls: () => tls.ConnectionOptions;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/**
 * Small JSON requests to one endpoint over one kept-alive connection (a poll a second must not cost
 * Keystone a TCP and TLS handshake each). Every request has a deadline and a size limit: a server that
 * stalls or streams without end is an error, not a hang or an out-of-memory.
 */
export class HttpClient {
  readonly #settings: HttpSettings;
  readonly #agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 1 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 1 }),
  };

  constructor(settings: HttpSettings) {
    this.#settings = settings;
  }

  request(
    method: 'GET' | 'POST',
    url: URL,
    headers: Readonly<Record<string, string>>,
    body?: string,
    signal?: AbortSignal,
  ): Promise<HttpAnswer> {
    const secure = url.protocol === 'https:';
    const send = secure ? https.request : http.request;
    const where = url.origin;
    const { timeoutMs, maxResponseBytes } = this.#settings;
    return new Promise((resolve, reject) => {
      let tlsOptions: tls.ConnectionOptions = {};
      try {
        if (secure) tlsOptions = this.#settings.tls();
      } catch (cause) {
        // A file mid-rotation: retried with the poller's backoff, like a refused connection.
        reject(new KeystoneUnreachable(`${where}: ${errorMessage(cause)}`, { cause }));
        return;
      }
      const req = send(url, {
        method,
        headers: {
          accept: 'application/json',
          ...headers,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        agent: secure ? this.#agents.https : this.#agents.http,
        ...tlsOptions,
        ...(signal === undefined ? {} : { signal }),
      });
      const timer = setTimeout(() => {
        req.destroy(new KeystoneUnreachable(`${where}: no complete answer within ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('error', (cause) => {
        clearTimeout(timer);
        reject(
          cause instanceof KeystoneUnreachable || cause instanceof KeystoneBadAnswer || signal?.aborted
            ? cause
            : new KeystoneUnreachable(`${where}: ${errorMessage(cause)}`, { cause }),
        );
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxResponseBytes) {
            req.destroy(new KeystoneBadAnswer(`${where}: the answer is over ${maxResponseBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', () => {});
      });
      req.end(body);
    });
  }

  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }
}
