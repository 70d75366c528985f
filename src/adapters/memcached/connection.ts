import type net from 'node:net';
import { type MemcachedServer, serverName } from '../../config/memcached-servers.ts';
import { type Item, type ReplyReader, retrievalReply, statusReply, versionReply } from './protocol.ts';
import { connectSocket, type SocketOptions } from './socket.ts';

export interface ConnectionOptions extends SocketOptions {
  readonly requestTimeoutMs: number;
}

/** The server could not be reached or did not answer in time; the request may not have been applied. */
export class MemcachedUnavailable extends Error {
  readonly server: string;

  constructor(server: string, message: string, options?: { cause?: unknown }) {
    super(`memcached ${server}: ${message}`, options);
    this.name = 'MemcachedUnavailable';
    this.server = server;
  }
}

interface PendingRequest {
  readonly reader: ReplyReader<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

const VALID_KEY = /^[\x21-\x7e]{1,250}$/;

/**
 * One pipelined text-protocol connection to one memcached server. It connects on first use and again
 * after any failure; a timeout or an unexpected reply closes the socket, because the reply stream can no
 * longer be matched to requests, and fails every request still waiting on it. The timeout is one of
 * inactivity: it fires when requests wait and no byte has arrived for requestTimeoutMs, so a large reply
 * that keeps streaming is never cut off.
 */
export class MemcachedConnection {
  readonly server: MemcachedServer;
  readonly name: string;
  readonly #options: ConnectionOptions;
  #socket: net.Socket | null = null;
  #connecting: Promise<net.Socket> | null = null;
  #buffer: Buffer = Buffer.alloc(0);
  /** Bytes received but not yet joined to #buffer: joined only when the head reader can progress. */
  #chunks: Buffer[] = [];
  #chunkBytes = 0;
  #idle: NodeJS.Timeout | null = null;
  /** The socket corked for this tick: requests made in one tick leave in one write (one syscall). */
  #corked: net.Socket | null = null;
  readonly #pending: PendingRequest[] = [];
  #closed = false;
  /** Outcome of the last exchange with the server: false after a failure until a request succeeds. */
  up = false;

  constructor(server: MemcachedServer, options: ConnectionOptions) {
    this.server = server;
    this.name = serverName(server);
    this.#options = options;
  }

  /** Multi-get with CAS uniques; keys absent from the server are absent from the map. */
  async gets(keys: readonly string[]): Promise<Map<string, Item>> {
    for (const key of keys) checkKey(key);
    const items = await this.#request(Buffer.from(`gets ${keys.join(' ')}\r\n`), retrievalReply());
    return new Map(items.map((item) => [item.key, item]));
  }

  async add(key: string, value: string, ttlSeconds: number): Promise<'STORED' | 'NOT_STORED'> {
    return this.#store(
      `add ${key} 0 ${ttlSeconds}`,
      value,
      statusReply(['STORED', 'NOT_STORED'] as const),
      key,
    );
  }

  async cas(
    key: string,
    value: string,
    ttlSeconds: number,
    cas: string,
  ): Promise<'STORED' | 'EXISTS' | 'NOT_FOUND'> {
    const reply = statusReply(['STORED', 'EXISTS', 'NOT_FOUND'] as const);
    return this.#store(`cas ${key} 0 ${ttlSeconds}`, value, reply, key, cas);
  }

  async delete(key: string): Promise<'DELETED' | 'NOT_FOUND'> {
    checkKey(key);
    return this.#request(Buffer.from(`delete ${key}\r\n`), statusReply(['DELETED', 'NOT_FOUND'] as const));
  }

  /** Reset an item's expiry without reading it; NOT_FOUND tells the server no longer holds it. */
  async touch(key: string, ttlSeconds: number): Promise<'TOUCHED' | 'NOT_FOUND'> {
    checkKey(key);
    const reply = statusReply(['TOUCHED', 'NOT_FOUND'] as const);
    return this.#request(Buffer.from(`touch ${key} ${ttlSeconds}\r\n`), reply);
  }

  version(): Promise<string> {
    return this.#request(Buffer.from('version\r\n'), versionReply());
  }

  close(): void {
    this.#closed = true;
    this.#fail(new MemcachedUnavailable(this.name, 'connection closed'));
  }

  async #store<T>(
    head: string,
    value: string,
    reader: ReplyReader<T>,
    key: string,
    cas?: string,
  ): Promise<T> {
    checkKey(key);
    const data = Buffer.from(value, 'utf8');
    const line = `${head} ${data.length}${cas === undefined ? '' : ` ${cas}`}\r\n`;
    return this.#request(Buffer.concat([Buffer.from(line), data, Buffer.from('\r\n')]), reader);
  }

  async #request<T>(payload: Buffer, reader: ReplyReader<T>): Promise<T> {
    if (this.#closed) throw new MemcachedUnavailable(this.name, 'connection closed');
    const socket = await this.#connect();
    return new Promise<T>((resolve, reject) => {
      // close() may have come while this request waited for the connection.
      if (this.#closed) return reject(new MemcachedUnavailable(this.name, 'connection closed'));
      this.#pending.push({ reader, resolve: resolve as (v: unknown) => void, reject });
      this.#idle ??= setTimeout(() => {
        this.#fail(
          new MemcachedUnavailable(this.name, `no reply within ${this.#options.requestTimeoutMs} ms`),
        );
      }, this.#options.requestTimeoutMs);
      this.#send(socket, payload);
    });
  }

  /**
   * A write per request was the daemon's largest cost (a syscall each, with Nagle off). Requests made
   * in the same tick (a batch of markers, a burst of deliveries) are corked and leave together when the
   * tick's promise jobs are done: the same bytes, in order, in one writev.
   */
  #send(socket: net.Socket, payload: Buffer): void {
    if (this.#corked !== socket) {
      this.#corked = socket;
      socket.cork();
      process.nextTick(() => {
        if (this.#corked === socket) this.#corked = null;
        socket.uncork();
      });
    }
    socket.write(payload);
  }

  #connect(): Promise<net.Socket> {
    if (this.#socket !== null) return Promise.resolve(this.#socket);
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  async #open(): Promise<net.Socket> {
    let socket: net.Socket;
    try {
      socket = await connectSocket(this.server, this.#options);
    } catch (cause) {
      this.up = false;
      throw new MemcachedUnavailable(this.name, `cannot connect: ${(cause as Error).message}`, { cause });
    }
    if (this.#closed) {
      // Closed while connecting: nothing may use, or be kept alive by, this socket.
      socket.destroy();
      throw new MemcachedUnavailable(this.name, 'connection closed');
    }
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', (cause) => this.#fail(new MemcachedUnavailable(this.name, cause.message, { cause })));
    socket.on('close', () => this.#fail(new MemcachedUnavailable(this.name, 'connection lost')));
    this.#socket = socket;
    return socket;
  }

  #receive(chunk: Buffer): void {
    this.#idle?.refresh();
    this.#chunks.push(chunk);
    this.#chunkBytes += chunk.length;
    const head = this.#pending[0];
    if (head && this.#buffer.length + this.#chunkBytes < head.reader.needed) return;
    this.#buffer = Buffer.concat([this.#buffer, ...this.#chunks]);
    this.#chunks = [];
    this.#chunkBytes = 0;
    let offset = 0;
    try {
      for (let next = this.#pending[0]; next !== undefined; next = this.#pending[0]) {
        const parsed = next.reader.read(this.#buffer, offset);
        if (parsed === null) break;
        offset = parsed.end;
        this.#pending.shift();
        this.up = true;
        next.resolve(parsed.value);
      }
    } catch (error) {
      // An error reply or a reply we cannot frame: answer the request it belongs to, drop the rest.
      this.#pending.shift()?.reject(error as Error);
      this.#fail(new MemcachedUnavailable(this.name, 'connection reset after an unexpected reply'));
      return;
    }
    this.#buffer = offset === this.#buffer.length ? Buffer.alloc(0) : this.#buffer.subarray(offset);
    if (this.#pending.length === 0) this.#stopIdleTimer();
  }

  #stopIdleTimer(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = null;
  }

  #fail(error: Error): void {
    const socket = this.#socket;
    this.#socket = null;
    this.#buffer = Buffer.alloc(0);
    this.#chunks = [];
    this.#chunkBytes = 0;
    this.#stopIdleTimer();
    if (socket) {
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
    }
    this.up = false;
    for (const request of this.#pending.splice(0)) request.reject(error);
  }
}

function checkKey(key: string): void {
  if (!VALID_KEY.test(key)) throw new Error('memcached keys are 1-250 printable ASCII characters');
}
