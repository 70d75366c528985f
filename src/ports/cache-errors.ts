/**
 * How a cache server can fail a command, one class per kind, each with a stable `code`: callers decide
 * by class (or code), never by message text. Messages name the server and never a value.
 */
export type CacheErrorCode = 'unreachable' | 'timeout' | 'closed' | 'protocol' | 'busy' | 'cas-contention';

export abstract class CacheServerError extends Error {
  abstract readonly code: CacheErrorCode;
  /** The server's name (`host:port`). */
  readonly server: string;

  constructor(server: string, message: string, options?: { cause?: unknown }) {
    super(`memcached ${server}: ${message}`, options);
    this.server = server;
  }
}

/** No connection could be made: refused, unresolvable, or not within the connect timeout. */
export class CacheUnreachable extends CacheServerError {
  readonly code = 'unreachable';
  override readonly name = 'CacheUnreachable';
}

/** The server did not answer in time; the command may or may not have been applied. */
export class CacheTimeout extends CacheServerError {
  readonly code = 'timeout';
  override readonly name = 'CacheTimeout';
}

/** The connection was lost, or closed by this process, before the reply came. */
export class CacheConnectionClosed extends CacheServerError {
  readonly code = 'closed';
  override readonly name = 'CacheConnectionClosed';
}

/** The server refused the command or sent a reply that cannot be framed (the connection is reset). */
export class CacheProtocolError extends CacheServerError {
  readonly code = 'protocol';
  override readonly name = 'CacheProtocolError';
}

/** The server's single key crawler stayed busy (another process's listing) until the deadline. */
export class CacheBusy extends CacheServerError {
  readonly code = 'busy';
  override readonly name = 'CacheBusy';
}

/** Other writers kept changing a key between our read and our compare-and-swap. */
export class CasContention extends CacheServerError {
  readonly code = 'cas-contention';
  override readonly name = 'CasContention';
}

/** Whether the server is away (could not be reached, or the connection went): a probe finds it again. */
export function isServerAway(error: unknown): boolean {
  return error instanceof CacheUnreachable || error instanceof CacheConnectionClosed;
}
