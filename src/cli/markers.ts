import { listKeys, metadumpModeFor } from '../adapters/memcached/metadump.ts';
import { MemcachedServers } from '../adapters/memcached/servers.ts';
import type { Config } from '../config/load.ts';
import { decodeMarkerValue, markerKey, PROTOCOL_VERSION } from '../core/marker.ts';
import type { Target } from '../core/targets.ts';

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

const GETS_CHUNK = 256;

/**
 * Each marker on each server with its age. With scopes, exactly those markers (absent ones shown as
 * such); without, every marker a server holds, listed with `lru_crawler metadump`.
 */
export async function readMarkers(
  config: Config,
  scopes: readonly Target[],
  nowMs: number,
): Promise<MarkerRow[]> {
  const servers = new MemcachedServers(config.memcached);
  const { prefix } = config.markers;
  try {
    const perServer = await Promise.all(
      servers.all.map(async (server): Promise<MarkerRow[]> => {
        try {
          let listed: Array<{ key: string; exp: number | null }>;
          if (scopes.length > 0) {
            listed = scopes.map((t) => ({ key: markerKey(prefix, t), exp: null }));
          } else {
            const mode =
              config.middlewarePurge.metadump === 'auto'
                ? metadumpModeFor(await server.version())
                : config.middlewarePurge.metadump;
            const limits = {
              timeoutMs: config.middlewarePurge.scanTimeoutMs,
              idleMs: config.middlewarePurge.scanIdleMs,
            };
            const listing = await listKeys(
              server.server,
              servers.socketOptions,
              mode,
              `${prefix}:${PROTOCOL_VERSION}:`,
              limits,
            );
            listed = listing.keys.sort((a, b) => a.key.localeCompare(b.key));
          }
          const rows: MarkerRow[] = [];
          for (let i = 0; i < listed.length; i += GETS_CHUNK) {
            const chunk = listed.slice(i, i + GETS_CHUNK);
            const items = await server.gets(chunk.map((k) => k.key));
            for (const { key, exp } of chunk) {
              const raw = items.get(key)?.value.toString('latin1');
              const valueMs = raw === undefined ? null : decodeMarkerValue(raw);
              rows.push({
                server: server.name,
                key,
                at: valueMs === null ? null : new Date(valueMs).toISOString(),
                ageSeconds: valueMs === null ? null : Math.round((nowMs - valueMs) / 1000),
                expiresInSeconds:
                  exp !== null && exp > 0 ? Math.max(0, Math.round(exp - nowMs / 1000)) : null,
              });
            }
          }
          return rows;
        } catch (error) {
          return [
            {
              server: server.name,
              key: '*',
              at: null,
              ageSeconds: null,
              expiresInSeconds: null,
              error: (error as Error).message,
            },
          ];
        }
      }),
    );
    return perServer.flat();
  } finally {
    servers.close();
  }
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
