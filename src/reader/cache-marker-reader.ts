import { isStale, readMarkerValue } from '../core/marker.ts';
import type { CacheServer } from '../ports/cache-server.ts';
import { markerKeysForToken } from './marker-keys.ts';

/**
 * Reads invalidation markers for validating services, from cache servers (the port). The daemon writes
 * every marker to every server, so one multi-get from one server answers; the next server is asked
 * only when one does not answer. `MarkerReader` (the library's entry) connects it to memcached.
 */
export class CacheMarkerReader {
  readonly prefix: string;
  readonly #servers: readonly CacheServer[];

  constructor(servers: readonly CacheServer[], prefix = 'kci') {
    this.prefix = prefix;
    this.#servers = servers;
  }

  keysFor(token: Readonly<Record<string, unknown>>): string[] {
    return markerKeysForToken(token, this.prefix);
  }

  /** The raw values of those keys that exist, from the first server that answers. */
  async read(keys: readonly string[]): Promise<Map<string, string>> {
    let lastError: unknown = new Error('no memcached server configured');
    for (const server of this.#servers) {
      try {
        const items = await server.gets(keys);
        return new Map([...items].map(([key, item]) => [key, item.value.toString('latin1')]));
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  /**
   * Whether a validation of `token` cached at `cachedAtMs` (taken before the validation request was sent)
   * is stale. When no server answers it is treated as stale: revalidating is the safe side.
   */
  async isStale(token: Readonly<Record<string, unknown>>, cachedAtMs: number): Promise<boolean> {
    const keys = this.keysFor(token);
    let found: Map<string, string>;
    try {
      found = await this.read(keys);
    } catch {
      return true;
    }
    return isStale(
      cachedAtMs,
      keys.map((k) => readMarkerValue(found.get(k))),
    );
  }

  close(): void {
    for (const s of this.#servers) s.close();
  }
}
