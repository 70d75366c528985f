/**
 * Readers of memcached text-protocol replies. A reader is made per request and may be called many times
 * as bytes arrive: it keeps what it has parsed, never consumes a partial reply, and says how many bytes
 * (from the start of its reply) it needs before another attempt is worthwhile. Positions are relative to
 * the reply's start, so the receive buffer may be trimmed between calls. Each value is copied once:
 * large multi-gets cost linear time, not quadratic.
 */

import type { CachedItem } from '../../ports/cache-server.ts';

export interface Parsed<T> {
  readonly value: T;
  /** Offset in the buffer just after the reply. */
  readonly end: number;
}

export interface ReplyReader<T> {
  /** The reply, or null when incomplete (then `needed` says when to call again). */
  read(buf: Buffer, start: number): Parsed<T> | null;
  /** Bytes from the reply's start that must have arrived before the next read can progress. */
  readonly needed: number;
}

/**
 * A reply memcached sends when it refused the command, or one that cannot be framed; the connection
 * turns it into a CacheProtocolError naming the server, and resynchronises.
 */
export class MemcachedReplyError extends Error {
  constructor(line: string) {
    super(`memcached replied ${line.slice(0, 120)}`);
    this.name = 'MemcachedReplyError';
  }
}

const CRLF = Buffer.from('\r\n');
const VALUE_LINE = /^VALUE (\S+) (\d+) (\d+)(?: (\d+))?$/;

function throwIfError(line: string): void {
  if (line === 'ERROR' || line.startsWith('CLIENT_ERROR') || line.startsWith('SERVER_ERROR')) {
    throw new MemcachedReplyError(line);
  }
}

/** A reply of one line, mapped (or rejected) by `decode`. */
function lineReply<T>(decode: (line: string) => T): ReplyReader<T> {
  const reader = {
    needed: 0,
    read(buf: Buffer, start: number): Parsed<T> | null {
      const eol = buf.indexOf(CRLF, start);
      if (eol < 0) {
        reader.needed = buf.length - start + 1;
        return null;
      }
      const line = buf.toString('latin1', start, eol);
      throwIfError(line);
      return { value: decode(line), end: eol + 2 };
    },
  };
  return reader;
}

/** One status line, checked against the replies the command may give. */
export function statusReply<S extends string>(allowed: readonly S[]): ReplyReader<S> {
  return lineReply((line) => {
    if (!(allowed as readonly string[]).includes(line)) throw new MemcachedReplyError(line);
    return line as S;
  });
}

/** `VERSION 1.6.18` */
export function versionReply(): ReplyReader<string> {
  return lineReply((line) => {
    if (!line.startsWith('VERSION ')) throw new MemcachedReplyError(line);
    return line.slice('VERSION '.length);
  });
}

/** `VALUE <key> <flags> <bytes> [<cas>]\r\n<data>\r\n` … `END\r\n` */
export function retrievalReply(): ReplyReader<CachedItem[]> {
  const items: CachedItem[] = [];
  let parsed = 0; // bytes of the reply already turned into items
  const reader = {
    needed: 0,
    read(buf: Buffer, start: number): Parsed<CachedItem[]> | null {
      for (;;) {
        const at = start + parsed;
        const eol = buf.indexOf(CRLF, at);
        if (eol < 0) {
          reader.needed = buf.length - start + 1;
          return null;
        }
        const line = buf.toString('latin1', at, eol);
        throwIfError(line);
        if (line === 'END') return { value: items, end: eol + 2 };
        const m = VALUE_LINE.exec(line);
        if (!m) throw new MemcachedReplyError(line);
        const dataEnd = eol + 2 + Number(m[3]);
        if (buf.length < dataEnd + 2) {
          reader.needed = dataEnd + 2 - start;
          return null;
        }
        items.push({
          key: m[1] as string,
          flags: Number(m[2]),
          value: Buffer.from(buf.subarray(eol + 2, dataEnd)),
          cas: m[4] ?? null,
        });
        parsed = dataEnd + 2 - start;
      }
    },
  };
  return reader;
}
