import { Gauge, type Registry } from 'prom-client';
import {
  describeInsecure,
  ENDPOINT_KINDS,
  INSECURE_REASONS,
  type InsecureEndpoint,
  insecureEndpoints,
} from '../config/endpoint-security.ts';
import type { Config } from '../config/load.ts';
import type { Logger } from './logger.ts';

/**
 * `kci_insecure_endpoints`, set once at start from the configuration. Every kind and reason is set, 0
 * included, so an alert on the gauge sees its series on every replica.
 */
function exportInsecureEndpoints(registry: Registry, endpoints: readonly InsecureEndpoint[]): void {
  const gauge = new Gauge({
    name: 'kci_insecure_endpoints',
    help: 'Endpoints the configuration lets through unprotected, by kind (broker, memcached, keystone) and reason (plaintext: no TLS off loopback; unverified: TLS without verifying the certificate).',
    labelNames: ['kind', 'reason'],
    registers: [registry],
  });
  for (const kind of ENDPOINT_KINDS) {
    for (const reason of INSECURE_REASONS) {
      gauge.set({ kind, reason }, endpoints.filter((e) => e.kind === kind && e.reason === reason).length);
    }
  }
}

/** What the configuration lets through unprotected: said at every start, and kept as the gauge. */
export function reportInsecureEndpoints(config: Config, registry: Registry, logger: Logger): void {
  const insecure = insecureEndpoints(config);
  exportInsecureEndpoints(registry, insecure);
  if (insecure.length > 0) {
    logger.warn(
      { endpoints: insecure.map(describeInsecure) },
      'insecure endpoints allowed by the configuration (plaintext or unverified TLS)',
    );
  }
}
