/**
 * The memcached text protocol: the storage command's encoding (the one that counts bytes) and the
 * readers of replies. A reader is made per request and may be called many times
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

/** A storage command (`add`, `cas`): its line with the value's length in bytes, the value, CRLF. */
export function storageCommand(head: string, value: string, cas?: string): string {
  // The command goes out as latin1 (one byte per character): a value's UTF-8 bytes, one character
  // each. Markers are ASCII, already their own bytes.
  const bytes = ASCII.test(value) ? value : Buffer.from(value, 'utf8').toString('latin1');
  return `${head} ${bytes.length}${cas === undefined ? '' : ` ${cas}`}\r\n${bytes}\r\n`;
}

/** Printable ASCII, tab, CR and LF: their UTF-8 bytes are the characters themselves. */
const ASCII = /^[\t\n\r\x20-\x7e]*$/;

/**
 * The line that starts at `at` (an error reply thrown) and the offset of its CRLF; null until the CRLF
 * has arrived, with `reader.needed` set to one byte more than the reply has so far.
 */
function nextLine(
  reader: { needed: number },
  buf: Buffer,
  start: number,
  at: number,
): { line: string; eol: number } | null {
  const eol = buf.indexOf(CRLF, at);
  if (eol < 0) {
    reader.needed = buf.length - start + 1;
    return null;
  }
  const line = buf.toString('latin1', at, eol);
  throwIfError(line);
  return { line, eol };
}

/** A reply of one line, mapped (or rejected) by `decode`. */
function lineReply<T>(decode: (line: string) => T): ReplyReader<T> {
  const reader = {
    needed: 0,
    read(buf: Buffer, start: number): Parsed<T> | null {
      const next = nextLine(reader, buf, start, start);
      return next && { value: decode(next.line), end: next.eol + 2 };
    },
  };
  return reader;
}

/** `line` if it is one of the replies the command may give. */
function allowedStatus<S extends string>(allowed: readonly S[], line: string): S {
  if (!(allowed as readonly string[]).includes(line)) throw new MemcachedReplyError(line);
  return line as S;
}

/** One status line, checked against the replies the command may give. */
export function statusReply<S extends string>(allowed: readonly S[]): ReplyReader<S> {
  return lineReply((line) => allowedStatus(allowed, line));
}

/** `count` status lines in a row (pipelined commands sent as one request), each checked as statusReply does. */
export function statusReplies<S extends string>(allowed: readonly S[], count: number): ReplyReader<S[]> {
  const values: S[] = [];
  let parsed = 0; // bytes of the reply already taken
  const reader = {
    needed: 0,
    read(buf: Buffer, start: number): Parsed<S[]> | null {
      while (values.length < count) {
        const next = nextLine(reader, buf, start, start + parsed);
        if (next === null) return null;
        values.push(allowedStatus(allowed, next.line));
        parsed = next.eol + 2 - start;
      }
      return { value: values, end: start + parsed };
    },
  };
  return reader;
}

/** `VERSION 1.6.18` */
export function versionReply(): ReplyReader<string> {
  return lineReply((line) => {
    if (!line.startsWith('VERSION ')) throw new MemcachedReplyError(line);
    return line.slice('VERSION '.length);
  });
}

/** `STAT <name> <value>\r\n` … `END\r\n`: the numeric ones. */
export function statsReply(): ReplyReader<Record<string, number>> {
  const stats: Record<string, number> = {};
  return untilEnd(
    stats,
    (line) => /^STAT (\S+) (\S+)$/.exec(line),
    () => null,
    (m) => {
      const value = Number(m[2]);
      if (!Number.isNaN(value)) stats[m[1] as string] = value;
    },
  );
}

/** `VALUE <key> <flags> <bytes> [<cas>]\r\n<data>\r\n` … `END\r\n` */
export function retrievalReply(): ReplyReader<CachedItem[]> {
  const items: CachedItem[] = [];
  return untilEnd(
    items,
    (line) => VALUE_LINE.exec(line),
    (m) => Number(m[3]),
    (m, data) => {
      items.push({ key: m[1] as string, flags: Number(m[2]), value: Buffer.from(data), cas: m[4] ?? null });
    },
  );
}

/**
 * A reply of entries up to `END\r\n`: each a line that `parse` accepts (or the reply is a protocol
 * error), followed by a data block of `block(entry)` bytes and CRLF where it has one (null: none).
 * `take` receives each entry once it has arrived whole; what was taken is never parsed again.
 */
function untilEnd<T>(
  value: T,
  parse: (line: string) => RegExpExecArray | null,
  block: (entry: RegExpExecArray) => number | null,
  take: (entry: RegExpExecArray, data: Buffer) => void,
): ReplyReader<T> {
  let parsed = 0; // bytes of the reply already taken
  const reader = {
    needed: 0,
    read(buf: Buffer, start: number): Parsed<T> | null {
      for (;;) {
        const next = nextLine(reader, buf, start, start + parsed);
        if (next === null) return null;
        const { line, eol } = next;
        if (line === 'END') return { value, end: eol + 2 };
        const entry = parse(line);
        if (!entry) throw new MemcachedReplyError(line);
        const bytes = block(entry);
        const end = bytes === null ? eol + 2 : eol + 2 + bytes + 2;
        if (buf.length < end) {
          reader.needed = end - start;
          return null;
        }
        take(entry, buf.subarray(eol + 2, eol + 2 + (bytes ?? 0)));
        parsed = end - start;
      }
    },
  };
  return reader;
}
