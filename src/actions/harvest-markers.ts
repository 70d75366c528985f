import { decodeMarkerValue, isTooFarAhead, PROTOCOL_VERSION } from '../core/marker.ts';
import { type CacheServer, isTextProtocolKey, type ListingLimits } from '../ports/cache-server.ts';

export interface MarkerListing {
  readonly prefix: string;
  readonly limits: ListingLimits;
}

export interface HarvestSettings extends MarkerListing {
  readonly ttlSeconds: number;
  readonly clockSkewMarginMs: number;
}

/** A marker key as listed (or asked for), and what the server holds under it. */
export interface StoredMarker {
  readonly key: string;
  /** Expiry as Unix seconds from the listing; -1 never, null when not listed. */
  readonly exp: number | null;
  /** The marker's time, or null when absent or not a v1 value. */
  readonly valueMs: number | null;
  /** Whether the server held a value (a v1 marker or not). */
  readonly held: boolean;
}

/** Why a value found under the marker prefix is not re-asserted. */
export type IgnoredMarkerReason = 'not-a-marker' | 'too-far-ahead';

/** Where a read-back puts what it finds. */
export interface HarvestSink {
  remember(key: string, valueMs: number, expiresAtMs: number): void;
  ignored(reason: IgnoredMarkerReason): void;
}

const GETS_CHUNK = 256;

/**
 * Every marker key a server holds, with its expiry (listed as the purge lists). Keys the text protocol
 * cannot ask for (stored by another client over the binary or meta protocol) are no markers of ours,
 * and one of them in a multi-get would fail the read of every other.
 */
export async function listMarkerKeys(
  server: CacheServer,
  settings: MarkerListing,
  signal?: AbortSignal,
): Promise<Array<{ key: string; exp: number | null }>> {
  const prefix = `${settings.prefix}:${PROTOCOL_VERSION}:`;
  return (await server.listKeys(prefix, settings.limits, signal)).keys.filter((k) =>
    isTextProtocolKey(k.key),
  );
}

/** The values `server` holds under `keys`, one multi-get chunk at a time. */
export async function* storedMarkerChunks(
  server: CacheServer,
  keys: ReadonlyArray<{ key: string; exp: number | null }>,
  signal?: AbortSignal,
): AsyncGenerator<StoredMarker[]> {
  for (let i = 0; i < keys.length; i += GETS_CHUNK) {
    signal?.throwIfAborted();
    const chunk = keys.slice(i, i + GETS_CHUNK);
    const items = await server.gets(chunk.map((k) => k.key));
    yield chunk.map(({ key, exp }) => {
      const raw = items.get(key)?.value.toString('latin1');
      return {
        key,
        exp,
        valueMs: raw === undefined ? null : decodeMarkerValue(raw),
        held: raw !== undefined,
      };
    });
  }
}

/** The values `server` holds under `keys`, read in multi-get chunks. */
export async function readStoredMarkers(
  server: CacheServer,
  keys: ReadonlyArray<{ key: string; exp: number | null }>,
  signal?: AbortSignal,
): Promise<StoredMarker[]> {
  const stored: StoredMarker[] = [];
  for await (const chunk of storedMarkerChunks(server, keys, signal)) stored.push(...chunk);
  return stored;
}

/**
 * A daemon that starts remembers no marker, yet a server that was away may have missed markers written
 * before the restart (by this daemon's previous life or by another replica). This reads back the
 * markers `server` holds, so they can be re-asserted on every server. Returns how many it found. Chunk
 * by chunk: a server may hold 100,000 markers, and only the remembered ones need to stay in memory.
 * Whatever one server holds is spread to all, so a value that is no v1 marker, or one dated too far
 * ahead (core/marker.ts), is left where it is and counted instead.
 */
export async function harvestMarkers(
  server: CacheServer,
  settings: HarvestSettings,
  sink: HarvestSink,
  nowMs: number,
  signal: AbortSignal,
): Promise<number> {
  const keys = await listMarkerKeys(server, settings, signal);
  let found = 0;
  for await (const chunk of storedMarkerChunks(server, keys, signal)) {
    for (const { key, exp, valueMs, held } of chunk) {
      if (valueMs === null) {
        if (held) sink.ignored('not-a-marker');
        continue;
      }
      if (isTooFarAhead(valueMs, nowMs, settings.clockSkewMarginMs)) {
        sink.ignored('too-far-ahead');
        continue;
      }
      // A marker keeps its own expiry; one stored without (exp=-1) by another writer gets ours.
      const expiresAtMs = exp !== null && exp > 0 ? exp * 1000 : nowMs + settings.ttlSeconds * 1000;
      sink.remember(key, valueMs, expiresAtMs);
      found++;
    }
  }
  return found;
}
