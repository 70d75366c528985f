import type { Config } from '../config/load.ts';
import { tlsFileReader } from '../config/tls-files.ts';
import type { Logger } from '../observability/logger.ts';
import type { RevocationObserver } from '../observability/revocation-metrics.ts';
import type { Source } from '../ports/source.ts';
import { Amqp10Source } from './amqp10/source.ts';
import { Amqp091Source } from './amqp091/source.ts';
import { KeystoneClient } from './keystone/client.ts';
import { RevocationSource } from './keystone/revocation-source.ts';

/**
 * The sources the configuration asks for, as `configuredActions` builds the actions: Keystone's
 * notifications, always, over AMQP 0-9-1 or 1.0 (`amqp.protocol`, or the URL's scheme); Keystone's
 * revocation events when `revocations.enabled`. Each logs as its own component.
 */
export function configuredSources(config: Config, logger: Logger, revocations: RevocationObserver): Source[] {
  const limits = { maxBodyBytes: config.processing.maxBodyBytes };
  const sources: Source[] = [
    config.amqp.protocol === '1.0'
      ? new Amqp10Source(config.amqp, config.region, limits, logger.child({ component: 'amqp10' }))
      : new Amqp091Source(config.amqp, config.region, limits, logger.child({ component: 'amqp091' })),
  ];
  const r = config.revocations;
  if (r.credentials !== null && r.authUrl !== undefined) {
    const https = new URL(r.authUrl).protocol === 'https:';
    const client = new KeystoneClient({
      authUrl: r.authUrl,
      credentials: r.credentials,
      // The files are read only for https: an unused caFile must not stop the daemon.
      http: {
        timeoutMs: r.requestTimeoutMs,
        maxResponseBytes: r.maxResponseBytes,
        tls: https ? tlsFileReader(r.tls, 'revocations.tls') : () => ({}),
      },
    });
    sources.push(new RevocationSource(r, client, revocations, logger.child({ component: 'revocations' })));
  }
  return sources;
}
