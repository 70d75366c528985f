/**
 * oslo.messaging `transport_url` parsing, matching oslo's TransportURL.parse so an operator can paste the
 * value from nova.conf: `rabbit://user:pass@h1:5672,user:pass@h2:5672/vhost?ssl=1`.
 * Hosts without credentials use guest/guest, as oslo's rabbit driver does.
 */
export interface BrokerHost {
  readonly hostname: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
}

export interface TransportUrl {
  /** oslo's driver name: `rabbit` is AMQP 0-9-1, `amqp` (and `amqps`, TLS) is AMQP 1.0. */
  readonly scheme: 'rabbit' | 'amqp' | 'amqps';
  readonly hosts: readonly BrokerHost[];
  readonly vhost: string;
  readonly tls: boolean;
  /** Query options other than `ssl`; oslo reads them as [oslo_messaging_rabbit] options. */
  readonly ignoredOptions: readonly string[];
}

export class InvalidTransportUrl extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTransportUrl';
  }
}

const SCHEMES: Readonly<Record<string, { tls: boolean; port: number; name: TransportUrl['scheme'] }>> = {
  rabbit: { tls: false, port: 5672, name: 'rabbit' },
  amqp: { tls: false, port: 5672, name: 'amqp' },
  amqps: { tls: true, port: 5671, name: 'amqps' },
};
const TRUE_VALUES = new Set(['1', 'true', 'yes', 'on']);
const UNENCODED = "percent-encode '/', ',', '@' and ':' in user names and passwords (%2F %2C %40 %3A)";

// Error messages name the part that is wrong, never the URL itself: it carries passwords.
export function parseTransportUrl(url: string): TransportUrl {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/i.exec(url.trim());
  if (!m) throw new InvalidTransportUrl('expected scheme://[user:pass@]host[:port][,…]/[vhost][?ssl=1]');
  const [, rawScheme = '', netloc = '', path = '', query = ''] = m;
  const scheme = SCHEMES[rawScheme.toLowerCase()];
  if (!scheme) throw new InvalidTransportUrl('scheme must be rabbit://, amqp:// or amqps://');
  const params = new URLSearchParams(query);
  const sslParam = params.get('ssl');
  const tls = scheme.tls || (sslParam !== null && TRUE_VALUES.has(sslParam.toLowerCase()));
  const port = scheme.tls || !tls ? scheme.port : 5671;
  // An unencoded '/' or ',' in a password splits the URL in the wrong place, and the rest of the
  // password would then be read (and logged) as a vhost or a host: refuse such URLs.
  if (path.includes('@')) throw new InvalidTransportUrl(UNENCODED);
  const entries = netloc.split(',').filter((h) => h !== '');
  const withCredentials = entries.filter((h) => h.includes('@')).length;
  if (withCredentials > 0 && withCredentials < entries.length) {
    throw new InvalidTransportUrl(`give every host credentials, or none; ${UNENCODED}`);
  }
  const hosts = entries.map((h, i) => parseHost(h, i, port));
  if (hosts.length === 0) throw new InvalidTransportUrl('no broker host given');
  return {
    scheme: scheme.name,
    hosts,
    vhost: decode(path.slice(1), 'the virtual host') || '/',
    tls,
    ignoredOptions: [...new Set(params.keys())].filter((k) => k !== 'ssl'),
  };
}

function parseHost(entry: string, index: number, defaultPort: number): BrokerHost {
  let username: string | null = null;
  let password: string | null = null;
  let hostPort = entry;
  const at = entry.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = entry.slice(0, at);
    hostPort = entry.slice(at + 1);
    const colon = userinfo.indexOf(':');
    username = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo, `the user of host ${index + 1}`);
    password = colon >= 0 ? decode(userinfo.slice(colon + 1), `the password of host ${index + 1}`) : null;
  }
  const { hostname, port } = splitHostPort(hostPort, index);
  return {
    hostname,
    port: port ?? defaultPort,
    username: username ?? 'guest',
    password: password ?? 'guest',
  };
}

function splitHostPort(hostPort: string, index: number): { hostname: string; port: number | null } {
  let hostname = hostPort;
  let portText = '';
  if (hostPort.startsWith('[')) {
    const end = hostPort.indexOf(']');
    if (end < 0) throw new InvalidTransportUrl(`host ${index + 1}: IPv6 address lacks its closing ]`);
    hostname = hostPort.slice(1, end);
    portText = hostPort.slice(end + 1).replace(/^:/, '');
  } else if (hostPort.includes(':')) {
    const colon = hostPort.indexOf(':');
    hostname = hostPort.slice(0, colon);
    portText = hostPort.slice(colon + 1);
  }
  if (hostname === '') throw new InvalidTransportUrl(`host ${index + 1} has no hostname`);
  if (portText === '') return { hostname, port: null };
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new InvalidTransportUrl(`host ${index + 1}: port must be a number from 1 to 65535`);
  }
  return { hostname, port };
}

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new InvalidTransportUrl(`${what} has an invalid percent-encoding`);
  }
}

/** The protocol a transport URL asks for, unless the configuration names one: oslo's schemes. */
export function amqpProtocol(url: TransportUrl, configured: 'auto' | '0-9-1' | '1.0'): '0-9-1' | '1.0' {
  if (configured !== 'auto') return configured;
  return url.scheme === 'rabbit' ? '0-9-1' : '1.0';
}

/** `amqp://host:port/vhost` per host, with no userinfo: the only form of a broker address we log. */
export function describeBroker(host: BrokerHost, vhost: string, tls: boolean): string {
  const h = host.hostname.includes(':') ? `[${host.hostname}]` : host.hostname;
  return `${tls ? 'amqps' : 'amqp'}://${h}:${host.port}/${encodeURIComponent(vhost)}`;
}
