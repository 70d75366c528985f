import { Gauge, type Registry } from 'prom-client';
import { ENDPOINT_KINDS, INSECURE_REASONS, type InsecureEndpoint } from '../config/endpoint-security.ts';

/**
 * `kci_insecure_endpoints`, set once at start from the configuration. Every kind and reason is set, 0
 * included, so an alert on the gauge sees its series on every replica.
 */
export function exportInsecureEndpoints(registry: Registry, endpoints: readonly InsecureEndpoint[]): void {
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
