import type net from 'node:net';
import { CacheConnectionClosed, CacheProtocolError, CacheUnreachable } from '../../ports/cache-errors.ts';
import type { CacheWatch, ServerAddress, WatchListener } from '../../ports/cache-server.ts';
import { errorMessage } from '../../util/errors.ts';
import { connectSocket, type SocketOptions } from './socket.ts';

/** The first answer must come within this (memcached answers OK or ERROR at once). */
const ANSWER_TIMEOUT_MS = 5_000;

export interface Watched {
  readonly name: string;
  readonly address: ServerAddress;
  readonly socket: SocketOptions;
}

/**
 * A memcached watcher (`watch mutations evictions deletions`, memcached's doc/protocol.txt
 * "Watchers") on a socket of its own. memcached sends one line per logged event, e.g.
 * `ts=… gid=… type=item_store key=tokens%2Fabc status=stored cmd=set ttl=300 clsid=1 cfd=25 size=5`,
 * keys URL-encoded; `skipped=N` when it had to drop lines because this watcher fell behind. Servers
 * before 1.6.20 refuse `deletions`: they are asked again without it.
 */
export async function startWatch(
  server: Watched,
  prefixes: readonly string[],
  listener: WatchListener,
): Promise<CacheWatch> {
  try {
    return await open(server, prefixes, listener, true);
  } catch (error) {
    if (!(error instanceof CacheProtocolError)) throw error;
    return open(server, prefixes, listener, false);
  }
}

async function open(
  server: Watched,
  prefixes: readonly string[],
  listener: WatchListener,
  deletions: boolean,
): Promise<CacheWatch> {
  let socket: net.Socket;
  try {
    socket = await connectSocket(server.address, server.socket);
  } catch (cause) {
    throw new CacheUnreachable(server.name, `cannot connect: ${errorMessage(cause)}`, { cause });
  }
  const answer = Promise.withResolvers<void>();
  let answered = false;
  let ended = false;
  let rest = '';
  const end = (error: Error) => {
    if (ended) return;
    ended = true;
    socket.removeAllListeners();
    socket.on('error', () => {});
    socket.destroy();
    if (answered) listener.ended(error);
    else answer.reject(error);
  };
  const timer = setTimeout(
    () => end(new CacheProtocolError(server.name, `no answer to watch within ${ANSWER_TIMEOUT_MS} ms`)),
    ANSWER_TIMEOUT_MS,
  );
  const accepts = (key: string) => prefixes.some((p) => key.startsWith(p));
  socket.on('error', (cause) =>
    end(new CacheConnectionClosed(server.name, `watch: ${cause.message}`, { cause })),
  );
  socket.on('close', () => end(new CacheConnectionClosed(server.name, 'watch connection lost')));
  socket.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('latin1')).split('\n');
    rest = lines.pop() ?? '';
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (!answered) {
        clearTimeout(timer);
        if (line !== 'OK')
          return end(new CacheProtocolError(server.name, `watch refused: ${line.slice(0, 120)}`));
        answered = true;
        answer.resolve();
        continue;
      }
      report(line, accepts, listener);
    }
  });
  socket.write(`watch mutations evictions${deletions ? ' deletions' : ''}\r\n`);
  await answer.promise;
  return {
    seesDeletions: deletions,
    close: () => end(new CacheConnectionClosed(server.name, 'watch closed')),
  };
}

function report(line: string, accepts: (key: string) => boolean, listener: WatchListener): void {
  if (line.startsWith('skipped=')) {
    listener.skipped(Number(line.slice('skipped='.length)) || 1);
    return;
  }
  const type = field(line, 'type');
  if (type !== 'item_store' && type !== 'eviction' && type !== 'deleted') return;
  const key = decodedKey(field(line, 'key'));
  if (key === null || !accepts(key)) return;
  if (type !== 'item_store') listener.removed(key);
  else if (field(line, 'status') === 'stored') listener.stored(key, Number(field(line, 'ttl') ?? 0));
}

/** The value of ` name=value` in a watcher line (values hold no spaces). */
function field(line: string, name: string): string | null {
  const at = line.indexOf(` ${name}=`);
  if (at < 0) return null;
  const start = at + name.length + 2;
  const end = line.indexOf(' ', start);
  return line.slice(start, end < 0 ? undefined : end);
}

function decodedKey(encoded: string | null): string | null {
  if (encoded === null) return null;
  try {
    return decodeURIComponent(encoded);
  } catch {
    return null; // not UTF-8: no key of ours
  }
}
