import type { MemcachedConnection } from '../adapters/memcached/connection.ts';
import {
  listKeys,
  type MetadumpLimits,
  type MetadumpMode,
  metadumpModeFor,
} from '../adapters/memcached/metadump.ts';
import type { SocketOptions } from '../adapters/memcached/socket.ts';
import { decodeMarkerValue, PROTOCOL_VERSION } from '../core/marker.ts';

export interface HarvestSettings {
  readonly prefix: string;
  readonly ttlSeconds: number;
  readonly metadump: 'auto' | MetadumpMode;
  readonly limits: MetadumpLimits;
}

export type RememberMarker = (key: string, valueMs: number, expiresAtMs: number) => void;

const GETS_CHUNK = 256;

/**
 * A daemon that starts remembers no marker, yet a server that was away may have missed markers written
 * before the restart (by this daemon's previous life or by another replica). This reads back the
 * markers `server` holds, so they can be re-asserted on every server. Returns how many it found.
 */
export async function harvestMarkers(
  server: MemcachedConnection,
  socket: SocketOptions,
  settings: HarvestSettings,
  remember: RememberMarker,
  nowMs: number,
  signal: AbortSignal,
): Promise<number> {
  const mode = settings.metadump === 'auto' ? metadumpModeFor(await server.version()) : settings.metadump;
  const prefix = `${settings.prefix}:${PROTOCOL_VERSION}:`;
  const { keys } = await listKeys(server.server, socket, mode, prefix, settings.limits, signal);
  let found = 0;
  for (let i = 0; i < keys.length; i += GETS_CHUNK) {
    signal.throwIfAborted();
    const chunk = keys.slice(i, i + GETS_CHUNK);
    const items = await server.gets(chunk.map((k) => k.key));
    for (const listed of chunk) {
      const item = items.get(listed.key);
      const valueMs = item === undefined ? null : decodeMarkerValue(item.value.toString('latin1'));
      if (valueMs === null) continue;
      // A marker keeps its own expiry; one stored without (exp=-1) by another writer gets ours.
      const expiresAtMs =
        listed.exp !== null && listed.exp > 0 ? listed.exp * 1000 : nowMs + settings.ttlSeconds * 1000;
      remember(listed.key, valueMs, expiresAtMs);
      found++;
    }
  }
  return found;
}
