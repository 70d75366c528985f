import { decodeMarkerValue, encodeMarkerValue } from '../core/marker.ts';
import { CacheProtocolError, CasContention } from '../ports/cache-errors.ts';
import type { CacheServer } from '../ports/cache-server.ts';

const MAX_CAS_ROUNDS = 16;

export type MarkerWriteResult = 'written' | 'already-newer';

/** What the writer expects the server to hold: it decides which command goes first. */
export type MarkerExpectation = 'absent' | 'present';

/**
 * Store `valueMs` under `key` on one server unless the server already holds a marker at least as new.
 * gets → add (absent) or cas (older) makes the marker monotonic even when replicas race: the loser of a
 * race re-reads and either finds a newer marker (done) or retries with its own. A marker expected to be
 * absent (the first for its subject) is tried with `add` alone first: one round trip instead of two;
 * `add` never overwrites, so when the key exists after all the gets/cas rounds decide as before.
 */
export async function writeMarker(
  server: CacheServer,
  key: string,
  valueMs: number,
  ttlSeconds: number,
  expect: MarkerExpectation = 'present',
): Promise<MarkerWriteResult> {
  const value = encodeMarkerValue(valueMs);
  if (expect === 'absent' && (await server.add(key, value, ttlSeconds)) === 'STORED') return 'written';
  for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
    const current = (await server.gets([key])).get(key);
    if (current === undefined) {
      if ((await server.add(key, value, ttlSeconds)) === 'STORED') return 'written';
      continue;
    }
    const existing = decodeMarkerValue(current.value.toString('latin1'));
    if (existing !== null && existing >= valueMs) return 'already-newer';
    if (current.cas === null) throw new CacheProtocolError(server.name, 'no CAS unique in the reply to gets');
    if ((await server.cas(key, value, ttlSeconds, current.cas)) === 'STORED') return 'written';
  }
  throw new CasContention(server.name, `marker still contended after ${MAX_CAS_ROUNDS} rounds`);
}

/** A marker of a batch written with `writeMarkerBatch`: its key, and what the server should hold. */
export interface BatchedMarker {
  readonly key: string;
  readonly expect: MarkerExpectation;
}

/**
 * Markers of one value on one server, by writeMarker's rule, with the `add`s of those expected absent
 * pipelined as one request (a drain's batch is mostly new subjects). The outcome of each, in order.
 */
export function writeMarkerBatch(
  server: CacheServer,
  markers: readonly BatchedMarker[],
  valueMs: number,
  ttlSeconds: number,
): Promise<PromiseSettledResult<MarkerWriteResult>[]> {
  const value = encodeMarkerValue(valueMs);
  const absent = markers.filter((m) => m.expect === 'absent');
  return server.addAll(absent.map((m) => ({ key: m.key, value, ttlSeconds }))).then((replies) => {
    const stored = new Set<string>();
    absent.forEach((m, i) => {
      if (replies[i] === 'STORED') stored.add(m.key);
    });
    if (stored.size === markers.length) return markers.map(() => WRITTEN);
    // The rest (expected present, or found present after all): gets → cas, each on its own.
    return Promise.allSettled(
      markers.map((m) =>
        stored.has(m.key) ? 'written' : writeMarker(server, m.key, valueMs, ttlSeconds, 'present'),
      ),
    );
  });
}

const WRITTEN: PromiseFulfilledResult<MarkerWriteResult> = Object.freeze({
  status: 'fulfilled',
  value: 'written',
});

/** One marker to write with `writeMarkers`. */
export interface MarkerWrite {
  readonly key: string;
  readonly valueMs: number;
  readonly ttlSeconds: number;
}

/**
 * Many markers on one server (re-assertion: up to every live marker, every minute). One multi-get
 * tells which the server already holds at least as new, and only the others are written, each by
 * writeMarker's rule (absent ones by `add` first). A server that kept its markers costs one request
 * per chunk instead of one per marker.
 */
export async function writeMarkers(server: CacheServer, markers: readonly MarkerWrite[]): Promise<void> {
  const current = await server.gets(markers.map((m) => m.key));
  await Promise.all(
    markers.map((m) => {
      const held = current.get(m.key);
      if (held === undefined) return writeMarker(server, m.key, m.valueMs, m.ttlSeconds, 'absent');
      const existing = decodeMarkerValue(held.value.toString('latin1'));
      if (existing !== null && existing >= m.valueMs) return 'already-newer';
      return writeMarker(server, m.key, m.valueMs, m.ttlSeconds, 'present');
    }),
  );
}
