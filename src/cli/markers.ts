import { listMarkerKeys, readStoredMarkers } from '../actions/harvest-markers.ts';
import { scanLimits } from '../actions/middleware-purge.ts';
import type { Config } from '../config/load.ts';
import { markerKey } from '../core/marker.ts';
import type { Target } from '../core/targets.ts';
import type { CacheServer } from '../ports/cache-server.ts';
import { errorMessage } from '../util/errors.ts';

export interface MarkerRow {
  readonly server: string;
  readonly key: string;
  /** The marker's time (ISO 8601), null when absent or not a v1 value. */
  readonly at: string | null;
  readonly ageSeconds: number | null;
  /** Seconds until memcached expires it, when listed (no scope given). */
  readonly expiresInSeconds: number | null;
  readonly error?: string;
}

/**
 * Each marker on each server with its age. With scopes, exactly those markers (absent ones shown as
 * such); without, every marker a server holds, listed with `lru_crawler metadump`.
 */
export async function readMarkers(
  config: Config,
  servers: readonly CacheServer[],
  scopes: readonly Target[],
  nowMs: number,
): Promise<MarkerRow[]> {
  const { prefix } = config.markers;
  const listing = { prefix, limits: scanLimits(config.middlewarePurge) };
  const perServer = await Promise.all(
    servers.map(async (server): Promise<MarkerRow[]> => {
      try {
        const keys =
          scopes.length > 0
            ? scopes.map((t) => ({ key: markerKey(prefix, t), exp: null }))
            : (await listMarkerKeys(server, listing)).sort((a, b) => a.key.localeCompare(b.key));
        const rows = (await readStoredMarkers(server, keys)).map(
          ({ key, exp, valueMs }): MarkerRow => ({
            server: server.name,
            key,
            at: valueMs === null ? null : new Date(valueMs).toISOString(),
            ageSeconds: valueMs === null ? null : Math.round((nowMs - valueMs) / 1000),
            expiresInSeconds: exp !== null && exp > 0 ? Math.max(0, Math.round(exp - nowMs / 1000)) : null,
          }),
        );
        return rows;
      } catch (error) {
        return [
          {
            server: server.name,
            key: '*',
            at: null,
            ageSeconds: null,
            expiresInSeconds: null,
            error: errorMessage(error),
          },
        ];
      }
    }),
  );
  return perServer.flat();
}

/** One line per marker: server, key, time, age (a marker dated ahead of now, by the skew margin, is negative). */
export function formatMarkers(rows: readonly MarkerRow[]): string {
  if (rows.length === 0) return 'no markers';
  const width = Math.max(...rows.map((r) => r.key.length));
  return rows
    .map((r) => {
      if (r.error !== undefined) return `${r.server}  error: ${r.error}`;
      if (r.at === null) return `${r.server}  ${r.key.padEnd(width)}  absent`;
      const expires = r.expiresInSeconds === null ? '' : `  expires in ${r.expiresInSeconds}s`;
      return `${r.server}  ${r.key.padEnd(width)}  ${r.at}  age ${r.ageSeconds}s${expires}`;
    })
    .join('\n');
}
