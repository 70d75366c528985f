import type net from 'node:net';
import { serverName } from '../../config/memcached-servers.ts';
import {
  CacheConnectionClosed,
  CacheProtocolError,
  CacheTimeout,
  CacheUnreachable,
} from '../../ports/cache-errors.ts';
import {
  type CachedItem,
  type CacheServer,
  type CacheWatch,
  isTextProtocolKey,
  type KeyListing,
  type ListingLimits,
  type ServerAddress,
  type StoreEntry,
  type WatchListener,
} from '../../ports/cache-server.ts';
import { errorMessage } from '../../util/errors.ts';
import { listKeys, type MetadumpMode, metadumpModeFor } from './metadump.ts';
import {
  type ReplyReader,
  retrievalReply,
  statsReply,
  statusReplies,
  statusReply,
  storageCommand,
  versionReply,
} from './protocol.ts';
import { connectSocket, type SocketOptions } from './socket.ts';
import { startWatch } from './watch.ts';

export interface ConnectionOptions extends SocketOptions {
  readonly requestTimeoutMs: number;
  /** How keys are listed; `auto` (the default) asks the server's version once: `hash` from 1.6.9, else `all`. */
  readonly metadump?: 'auto' | MetadumpMode;
  /** Told once per server which listing `auto` chose, and from which version. */
  readonly listingModeChosen?: (server: string, mode: MetadumpMode, version: string) => void;
}

interface PendingRequest {
  readonly reader: ReplyReader<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/**
 * One memcached server over the text protocol: the CacheServer port. Commands share one pipelined
 * connection; a key listing opens a socket of its own (memcached refuses commands pipelined around a
 * metadump). The connection is made on first use and again
 * after any failure; a timeout or an unexpected reply closes the socket, because the reply stream can no
 * longer be matched to requests, and fails every request still waiting on it. The timeout is one of
 * inactivity: it fires when requests wait and no byte has arrived for requestTimeoutMs, so a large reply
 * that keeps streaming is never cut off.
 */
export class MemcachedConnection implements CacheServer {
  readonly address: ServerAddress;
  readonly name: string;
  readonly #options: ConnectionOptions;
  #listingMode: Promise<MetadumpMode> | null = null;
  /** Watches opened on this server: closed with it. */
  readonly #watches = new Set<CacheWatch>();
  #socket: net.Socket | null = null;
  #connecting: Promise<net.Socket> | null = null;
  #buffer: Buffer = Buffer.alloc(0);
  /** Bytes received but not yet joined to #buffer: joined only when the head reader can progress. */
  #chunks: Buffer[] = [];
  #chunkBytes = 0;
  #idle: NodeJS.Timeout | null = null;
  /** The commands of this tick, for this socket: they leave in one write (one syscall). */
  #outgoing: { readonly socket: net.Socket; readonly commands: string[] } | null = null;
  readonly #pending: PendingRequest[] = [];
  #closed = false;
  /** Outcome of the last exchange with the server: false after a failure until a request succeeds. */
  up = false;

  constructor(address: ServerAddress, options: ConnectionOptions) {
    this.address = address;
    this.name = serverName(address);
    this.#options = options;
  }

  // The commands below are plain functions, not async ones: each is a promise or two less per marker
  // write, which the hot path of a drain pays per event and server. Invalid keys still reject.

  /** Multi-get with CAS uniques; keys absent from the server are absent from the map. */
  gets(keys: readonly string[]): Promise<Map<string, CachedItem>> {
    return this.#request(keys, `gets ${keys.join(' ')}\r\n`, retrievalReply()).then(
      (items) => new Map(items.map((item) => [item.key, item])),
    );
  }

  add(key: string, value: string, ttlSeconds: number): Promise<'STORED' | 'NOT_STORED'> {
    const reply = statusReply(['STORED', 'NOT_STORED'] as const);
    return this.#request([key], storageCommand(`add ${key} 0 ${ttlSeconds}`, value), reply);
  }

  addAll(entries: readonly StoreEntry[]): Promise<('STORED' | 'NOT_STORED')[]> {
    if (entries.length === 0) return Promise.resolve([]);
    let command = '';
    for (const e of entries) command += storageCommand(`add ${e.key} 0 ${e.ttlSeconds}`, e.value);
    const reply = statusReplies(['STORED', 'NOT_STORED'] as const, entries.length);
    return this.#request(
      entries.map((e) => e.key),
      command,
      reply,
    );
  }

  cas(
    key: string,
    value: string,
    ttlSeconds: number,
    cas: string,
  ): Promise<'STORED' | 'EXISTS' | 'NOT_FOUND'> {
    const reply = statusReply(['STORED', 'EXISTS', 'NOT_FOUND'] as const);
    return this.#request([key], storageCommand(`cas ${key} 0 ${ttlSeconds}`, value, cas), reply);
  }

  delete(key: string): Promise<'DELETED' | 'NOT_FOUND'> {
    const reply = statusReply(['DELETED', 'NOT_FOUND'] as const);
    return this.#request([key], `delete ${key}\r\n`, reply);
  }

  /** Reset an item's expiry without reading it; NOT_FOUND tells the server no longer holds it. */
  touch(key: string, ttlSeconds: number): Promise<'TOUCHED' | 'NOT_FOUND'> {
    const reply = statusReply(['TOUCHED', 'NOT_FOUND'] as const);
    return this.#request([key], `touch ${key} ${ttlSeconds}\r\n`, reply);
  }

  version(): Promise<string> {
    return this.#request([], 'version\r\n', versionReply());
  }

  stats(): Promise<Record<string, number>> {
    return this.#request([], 'stats\r\n', statsReply());
  }

  async listKeys(prefix: string, limits: ListingLimits, signal?: AbortSignal): Promise<KeyListing> {
    if (this.#closed) throw new CacheConnectionClosed(this.name, 'connection closed');
    const mode = await this.#modeForListing();
    return listKeys(this.#own(), mode, prefix, limits, signal);
  }

  async watch(prefixes: readonly string[], listener: WatchListener): Promise<CacheWatch> {
    if (this.#closed) throw new CacheConnectionClosed(this.name, 'connection closed');
    const ended = (error: Error) => {
      this.#watches.delete(watch);
      listener.ended(error);
    };
    const watch = await startWatch(this.#own(), prefixes, { ...listener, ended });
    if (this.#closed) watch.close();
    else this.#watches.add(watch);
    return watch;
  }

  close(): void {
    this.#closed = true;
    for (const watch of this.#watches) watch.close();
    this.#fail(new CacheConnectionClosed(this.name, 'connection closed'));
  }

  /** What a socket of its own (a listing, a watch) needs to reach this server. */
  #own() {
    return { name: this.name, address: this.address, socket: this.#options };
  }

  /** `auto`: the server's version decides, asked once (a failed ask is asked again next time). */
  #modeForListing(): Promise<MetadumpMode> {
    const configured = this.#options.metadump ?? 'auto';
    if (configured !== 'auto') return Promise.resolve(configured);
    this.#listingMode ??= this.version().then(
      (version) => {
        const mode = metadumpModeFor(version);
        this.#options.listingModeChosen?.(this.name, mode, version);
        return mode;
      },
      (error: unknown) => {
        this.#listingMode = null;
        throw error;
      },
    );
    return this.#listingMode;
  }

  /** `command` (its keys checked first) on the shared connection; resolves with its reply. */
  #request<T>(keys: readonly string[], command: string, reader: ReplyReader<T>): Promise<T> {
    for (const key of keys) {
      if (!isTextProtocolKey(key)) return Promise.reject(new RangeError(INVALID_KEY));
    }
    if (this.#closed) return Promise.reject(new CacheConnectionClosed(this.name, 'connection closed'));
    const socket = this.#socket;
    if (socket !== null) return this.#enqueue(socket, command, reader);
    return this.#connect().then((connected) => this.#enqueue(connected, command, reader));
  }

  #enqueue<T>(socket: net.Socket, command: string, reader: ReplyReader<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // close() may have come while this request waited for the connection.
      if (this.#closed) return reject(new CacheConnectionClosed(this.name, 'connection closed'));
      this.#pending.push({ reader, resolve: resolve as (v: unknown) => void, reject });
      this.#idle ??= setTimeout(() => {
        this.#fail(new CacheTimeout(this.name, `no reply within ${this.#options.requestTimeoutMs} ms`));
      }, this.#options.requestTimeoutMs);
      this.#send(socket, command);
    });
  }

  /**
   * A write per request was the daemon's largest cost (a syscall each, with Nagle off). The commands
   * of one tick (a batch of markers, a burst of deliveries) are joined and leave together when the
   * tick's promise jobs are done: the same bytes, in order, in one write.
   */
  #send(socket: net.Socket, command: string): void {
    if (this.#outgoing === null || this.#outgoing.socket !== socket) {
      const outgoing = { socket, commands: [] as string[] };
      this.#outgoing = outgoing;
      process.nextTick(() => {
        if (this.#outgoing === outgoing) this.#outgoing = null;
        if (!socket.destroyed) socket.write(outgoing.commands.join(''), 'latin1');
      });
    }
    this.#outgoing.commands.push(command);
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
      socket = await connectSocket(this.address, this.#options);
    } catch (cause) {
      this.up = false;
      throw new CacheUnreachable(this.name, `cannot connect: ${errorMessage(cause)}`, { cause });
    }
    if (this.#closed) {
      // Closed while connecting: nothing may use, or be kept alive by, this socket.
      socket.destroy();
      throw new CacheConnectionClosed(this.name, 'connection closed');
    }
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', (cause) => this.#fail(new CacheConnectionClosed(this.name, cause.message, { cause })));
    socket.on('close', () => this.#fail(new CacheConnectionClosed(this.name, 'connection lost')));
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
      this.#pending.shift()?.reject(new CacheProtocolError(this.name, errorMessage(error), { cause: error }));
      this.#fail(new CacheConnectionClosed(this.name, 'connection reset after an unexpected reply'));
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

const INVALID_KEY = 'memcached keys are 1-250 printable ASCII characters';
