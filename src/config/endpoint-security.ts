import net from 'node:net';
import type { Config } from './load.ts';
import { serverName } from './memcached-servers.ts';

/**
 * Which endpoints the daemon would talk to without TLS off loopback, or over TLS without verifying the
 * server (docs/decisions/0018). Plaintext off loopback is refused at load unless the section's
 * `allowPlaintext` says so; what is allowed is warned at every start and counted.
 */
export type EndpointKind = 'broker' | 'memcached' | 'keystone';
export type InsecureReason = 'plaintext' | 'unverified';

export interface InsecureEndpoint {
  readonly kind: EndpointKind;
  readonly reason: InsecureReason;
  /** host:port only: never user information. */
  readonly endpoint: string;
}

export const ENDPOINT_KINDS: readonly EndpointKind[] = ['broker', 'memcached', 'keystone'];
export const INSECURE_REASONS: readonly InsecureReason[] = ['plaintext', 'unverified'];

interface Endpoint {
  readonly kind: EndpointKind;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly verified: boolean;
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
const LOOPBACK_TEXT = 'off loopback (127.0.0.0/8, ::1, localhost)';
const areOff = (names: string[]) =>
  `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} ${LOOPBACK_TEXT}`;

/**
 * Loopback by the address as written: 127.0.0.0/8, ::1 (IPv4-mapped forms included) and `localhost`.
 * Any other name counts as off loopback, even one that resolves to 127.0.0.1: the decision must not
 * depend on a DNS answer an attacker on the path could give.
 */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost') return true;
  const family = net.isIP(h);
  return family !== 0 && LOOPBACK.check(h, family === 4 ? 'ipv4' : 'ipv6');
}

function endpoints(config: Config): Endpoint[] {
  const { transport, tls } = config.amqp;
  const brokers = transport.hosts.map((h) => ({
    kind: 'broker' as const,
    host: h.hostname,
    port: h.port,
    tls: transport.tls,
    verified: tls.rejectUnauthorized,
  }));
  const m = config.memcached;
  const servers = m.servers.map((s) => ({
    kind: 'memcached' as const,
    ...s,
    tls: m.tls.enabled,
    verified: m.tls.rejectUnauthorized,
  }));
  return [...brokers, ...servers, ...keystone(config.revocations)];
}

function keystone(r: Config['revocations']): Endpoint[] {
  if (!r.enabled || r.authUrl === undefined) return [];
  const url = new URL(r.authUrl);
  const tls = url.protocol === 'https:';
  const port = url.port === '' ? (tls ? 443 : 80) : Number(url.port);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return [{ kind: 'keystone', host, port, tls, verified: r.tls.rejectUnauthorized }];
}

/** Every endpoint that is plaintext off loopback or not verified, as the configuration allows. */
export function insecureEndpoints(config: Config): InsecureEndpoint[] {
  return endpoints(config).flatMap((e): InsecureEndpoint[] => {
    const endpoint = serverName(e);
    if (!e.tls) return isLoopback(e.host) ? [] : [{ kind: e.kind, reason: 'plaintext', endpoint }];
    return e.verified ? [] : [{ kind: e.kind, reason: 'unverified', endpoint }];
  });
}

/**
 * One problem per section with plaintext off loopback and no `allowPlaintext`, naming the fix. Hosts are
 * named by position, as other configuration errors name them: no configured value is repeated.
 */
export function plaintextRefusals(config: Config): string[] {
  const all = endpoints(config);
  /** Positions, within their kind, of the endpoints that are plaintext off loopback. */
  const offLoopback = (kind: EndpointKind): number[] =>
    all.filter((e) => e.kind === kind).flatMap((e, i) => (!e.tls && !isLoopback(e.host) ? [i] : []));
  const problems: string[] = [];
  const brokers = offLoopback('broker').map((i) => `host ${i + 1}`);
  if (brokers.length > 0 && !config.amqp.allowPlaintext) {
    problems.push(
      `amqp: the transport_url asks for no TLS and ${areOff(brokers)}; use ` +
        'amqps:// or rabbit://…?ssl=1 (CA in amqp.tls), or set amqp.allowPlaintext: true to send the ' +
        'broker password and notifications in clear',
    );
  }
  const servers = offLoopback('memcached').map((i) => `memcached.servers.${i}`);
  if (servers.length > 0 && !config.memcached.allowPlaintext) {
    problems.push(
      `memcached: tls.enabled is false and ${areOff(servers)}; enable ` +
        'memcached.tls, or set memcached.allowPlaintext: true to accept plaintext',
    );
  }
  if (offLoopback('keystone').length > 0 && !config.revocations.allowPlaintext) {
    problems.push(
      `revocations.authUrl: http:// to a host ${LOOPBACK_TEXT}; use https://, or set ` +
        'revocations.allowPlaintext: true to send the Keystone credential in clear',
    );
  }
  return problems;
}

/** One line for the start-up warning and `check-config`, with the setting that allowed it. */
export function describeInsecure(e: InsecureEndpoint): string {
  const why =
    e.reason === 'plaintext'
      ? 'plaintext (allowPlaintext: true)'
      : 'certificate not verified (tls.rejectUnauthorized: false)';
  return `${e.kind} ${e.endpoint}: ${why}`;
}
