import { describe, expect, it } from 'vitest';
import {
  MemcachedReplyError,
  type Parsed,
  type ReplyReader,
  retrievalReply,
  statusReplies,
  statusReply,
} from '../../src/adapters/memcached/protocol.ts';

/** Feeds a reply to a reader the way a socket might: one byte at a time, trimming nothing. */
function readByteByByte<T>(
  reader: ReplyReader<T>,
  reply: Buffer,
): { result: Parsed<T> | null; attempts: number } {
  let result: Parsed<T> | null = null;
  let attempts = 0;
  for (let n = 1; n <= reply.length && result === null; n++) {
    if (n < reader.needed) continue;
    attempts++;
    result = reader.read(reply.subarray(0, n), 0);
  }
  return { result, attempts };
}

describe('memcached reply readers', () => {
  it('reads a multi-get delivered a byte at a time, and only retries when it can progress', () => {
    const big = 'x'.repeat(10_000);
    const reply = Buffer.from(`VALUE a 0 3 7\r\nabc\r\nVALUE b 2 ${big.length} 8\r\n${big}\r\nEND\r\n`);
    const { result, attempts } = readByteByByte<Array<{ key: string; value: Buffer }>>(
      retrievalReply(),
      reply,
    );
    expect(result?.value.map((i) => [i.key, i.value.length])).toEqual([
      ['a', 3],
      ['b', 10_000],
    ]);
    expect(result?.end).toBe(reply.length);
    // Header lines are retried byte by byte, but the 10,000-byte value is waited for in one step.
    expect(attempts).toBeLessThan(200);
  });

  it('reads a reply that starts inside a larger buffer', () => {
    const reader = statusReply(['STORED', 'NOT_STORED'] as const);
    const buf = Buffer.from('DELETED\r\nNOT_STORED\r\n');
    expect(reader.read(buf, 9)).toEqual({ value: 'NOT_STORED', end: buf.length });
  });

  it.each(['SERVER_ERROR out of memory', 'CLIENT_ERROR bad data chunk', 'ERROR', 'EXISTS'])(
    'rejects %s where it is not an allowed reply',
    (line) => {
      expect(() => statusReply(['STORED'] as const).read(Buffer.from(`${line}\r\n`), 0)).toThrow(
        MemcachedReplyError,
      );
    },
  );

  it('reads pipelined status replies, in order, split anywhere, and ends after the last one', () => {
    const reply = Buffer.from('STORED\r\nNOT_STORED\r\nSTORED\r\nVERSION 1.6.18\r\n');
    const { result } = readByteByByte(statusReplies(['STORED', 'NOT_STORED'] as const, 3), reply);
    expect(result?.value).toEqual(['STORED', 'NOT_STORED', 'STORED']);
    expect(result?.end).toBe('STORED\r\nNOT_STORED\r\nSTORED\r\n'.length);
  });

  it('rejects pipelined replies at the first one that is not allowed', () => {
    const reader = statusReplies(['STORED', 'NOT_STORED'] as const, 3);
    expect(() => reader.read(Buffer.from('STORED\r\nSERVER_ERROR out of memory\r\nSTORED\r\n'), 0)).toThrow(
      MemcachedReplyError,
    );
  });
});
