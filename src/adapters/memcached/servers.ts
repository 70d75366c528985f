import type { Config } from '../../config/load.ts';
import { readTlsFiles } from '../../config/tls-files.ts';
import { MemcachedConnection } from './connection.ts';
import type { SocketOptions } from './socket.ts';

/**
 * The region's memcached pool as this daemon sees it: one connection per server, because Python clients
 * place keys differently (crc32 buckets, rendezvous hashing, replicate-all) and every server must hold
 * every invalidation. A periodic `version` probe keeps each server's up/down state current when idle.
 */
export class MemcachedServers {
  readonly all: readonly MemcachedConnection[];
  /** How to open further sockets to these servers (a metadump needs one of its own). */
  readonly socketOptions: SocketOptions;
  #probe: NodeJS.Timeout | null = null;

  constructor(config: Config['memcached']) {
    this.socketOptions = {
      connectTimeoutMs: config.connectTimeoutMs,
      tls: config.tls.enabled ? readTlsFiles(config.tls) : null,
    };
    const options = { ...this.socketOptions, requestTimeoutMs: config.requestTimeoutMs };
    this.all = config.servers.map((server) => new MemcachedConnection(server, options));
  }

  /** True when at least one server answered its last request: invalidations can be written somewhere. */
  anyUp(): boolean {
    return this.all.some((c) => c.up);
  }

  /** Probe every server now and then every `intervalMs`; `afterProbe` runs once each probe has answered. */
  startProbing(intervalMs: number, afterProbe: () => Promise<void> = async () => {}): Promise<void> {
    const probe = () =>
      Promise.allSettled(this.all.map((c) => c.version()))
        .then(afterProbe)
        .catch(() => {});
    this.#probe = setInterval(probe, intervalMs);
    this.#probe.unref();
    return probe();
  }

  close(): void {
    if (this.#probe) clearInterval(this.#probe);
    for (const c of this.all) c.close();
  }
}
