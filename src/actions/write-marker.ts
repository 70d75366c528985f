import type { MemcachedConnection } from '../adapters/memcached/connection.ts';
import { decodeMarkerValue, encodeMarkerValue } from '../core/marker.ts';

const MAX_CAS_ROUNDS = 16;

export type MarkerWriteResult = 'written' | 'already-newer';

/**
 * Store `valueMs` under `key` on one server unless the server already holds a marker at least as new.
 * gets → add (absent) or cas (older) makes the marker monotonic even when replicas race: the loser of a
 * race re-reads and either finds a newer marker (done) or retries with its own.
 */
export async function writeMarker(
  server: MemcachedConnection,
  key: string,
  valueMs: number,
  ttlSeconds: number,
): Promise<MarkerWriteResult> {
  const value = encodeMarkerValue(valueMs);
  for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
    const current = (await server.gets([key])).get(key);
    if (current === undefined) {
      if ((await server.add(key, value, ttlSeconds)) === 'STORED') return 'written';
      continue;
    }
    const existing = decodeMarkerValue(current.value.toString('latin1'));
    if (existing !== null && existing >= valueMs) return 'already-newer';
    if (current.cas === null) throw new Error(`memcached ${server.name} returned no CAS unique for gets`);
    if ((await server.cas(key, value, ttlSeconds, current.cas)) === 'STORED') return 'written';
  }
  throw new Error(`memcached ${server.name}: marker still contended after ${MAX_CAS_ROUNDS} rounds`);
}
