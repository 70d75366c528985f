/**
 * Parsers for memcached text-protocol replies. Each takes the receive buffer and returns the reply and
 * the offset after it, or null when the reply is not complete yet. They never consume a partial reply.
 */

export interface Item {
  readonly key: string;
  readonly flags: number;
  readonly value: Buffer;
  /** CAS unique; a decimal string because it is a 64-bit counter. */
  readonly cas: string | null;
}

export interface Parsed<T> {
  readonly value: T;
  readonly end: number;
}

export type ReplyParser<T> = (buf: Buffer, start: number) => Parsed<T> | null;

/** A reply memcached sends when it refused the command; the connection is resynchronised after it. */
export class MemcachedReplyError extends Error {
  constructor(line: string) {
    super(`memcached replied ${line.slice(0, 120)}`);
    this.name = 'MemcachedReplyError';
  }
}

const CRLF = Buffer.from('\r\n');

function readLine(buf: Buffer, start: number): Parsed<string> | null {
  const eol = buf.indexOf(CRLF, start);
  if (eol < 0) return null;
  return { value: buf.toString('latin1', start, eol), end: eol + 2 };
}

function throwIfError(line: string): void {
  if (line === 'ERROR' || line.startsWith('CLIENT_ERROR') || line.startsWith('SERVER_ERROR')) {
    throw new MemcachedReplyError(line);
  }
}

/** One status line, checked against the replies the command may give. */
export function statusReply<S extends string>(allowed: readonly S[]): ReplyParser<S> {
  return (buf, start) => {
    const line = readLine(buf, start);
    if (line === null) return null;
    throwIfError(line.value);
    if (!(allowed as readonly string[]).includes(line.value)) throw new MemcachedReplyError(line.value);
    return line as Parsed<S>;
  };
}

/** `VERSION 1.6.18` */
export const versionReply: ReplyParser<string> = (buf, start) => {
  const line = readLine(buf, start);
  if (line === null) return null;
  throwIfError(line.value);
  if (!line.value.startsWith('VERSION ')) throw new MemcachedReplyError(line.value);
  return { value: line.value.slice('VERSION '.length), end: line.end };
};

/** `VALUE <key> <flags> <bytes> [<cas>]\r\n<data>\r\n` … `END\r\n` */
export const retrievalReply: ReplyParser<Item[]> = (buf, start) => {
  const items: Item[] = [];
  let offset = start;
  for (;;) {
    const line = readLine(buf, offset);
    if (line === null) return null;
    throwIfError(line.value);
    if (line.value === 'END') return { value: items, end: line.end };
    const m = /^VALUE (\S+) (\d+) (\d+)(?: (\d+))?$/.exec(line.value);
    if (!m) throw new MemcachedReplyError(line.value);
    const size = Number(m[3]);
    const dataEnd = line.end + size;
    if (buf.length < dataEnd + 2) return null;
    items.push({
      key: m[1] as string,
      flags: Number(m[2]),
      value: Buffer.from(buf.subarray(line.end, dataEnd)),
      cas: m[4] ?? null,
    });
    offset = dataEnd + 2;
  }
};
