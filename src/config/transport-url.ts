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
  /**
   * Query options other than `ssl` (oslo reads them as [oslo_messaging_rabbit] options), by name: only
   * names shaped like an oslo option, since anything else may be a piece of a mistyped password.
   */
  readonly ignoredOptions: readonly string[];
  /** How many other options there were, whose names are not shown. */
  readonly otherIgnoredOptions: number;
}

export class InvalidTransportUrl extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTransportUrl';
  }
}

// A Map: the scheme is the operator's text, and a plain object would answer `constructor` too.
const SCHEMES: ReadonlyMap<string, { tls: boolean; port: number; name: TransportUrl['scheme'] }> = new Map([
  ['rabbit', { tls: false, port: 5672, name: 'rabbit' }],
  ['amqp', { tls: false, port: 5672, name: 'amqp' }],
  ['amqps', { tls: true, port: 5671, name: 'amqps' }],
]);
const TRUE_VALUES = new Set(['1', 'true', 'yes', 'on']);
/** oslo option names are lowercase snake_case; only such a name is ever shown. */
const OPTION_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const UNENCODED =
  "percent-encode '/', '?', '#', ',', '@', ':' and '%' in user names and passwords " +
  '(%2F %3F %23 %2C %40 %3A %25)';

// Error messages name the part that is wrong, never the URL itself: it carries passwords.
export function parseTransportUrl(url: string): TransportUrl {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/is.exec(url.trim());
  if (!m) throw new InvalidTransportUrl('expected scheme://[user:pass@]host[:port][,…]/[vhost][?ssl=1]');
  const [, rawScheme = '', rest = ''] = m;
  const scheme = SCHEMES.get(rawScheme.toLowerCase());
  if (!scheme) throw new InvalidTransportUrl('scheme must be rabbit://, amqp:// or amqps://');
  const { netloc, path, query } = splitUrl(rest);
  const params = new URLSearchParams(query);
  const sslParam = params.get('ssl');
  const tls = scheme.tls || (sslParam !== null && TRUE_VALUES.has(sslParam.toLowerCase()));
  const port = scheme.tls || !tls ? scheme.port : 5671;
  const entries = netloc.split(',').filter((h) => h !== '');
  const withCredentials = entries.filter((h) => h.includes('@')).length;
  if (withCredentials > 0 && withCredentials < entries.length) {
    throw new InvalidTransportUrl(`give every host credentials, or none; ${UNENCODED}`);
  }
  const hosts = entries.map((h, i) => parseHost(h, i, port));
  if (hosts.length === 0) throw new InvalidTransportUrl('no broker host given');
  const options = [...new Set(params.keys())].filter((k) => k !== 'ssl');
  const named = options.filter((k) => OPTION_NAME.test(k));
  return {
    scheme: scheme.name,
    hosts,
    vhost: decode(path.slice(1), 'the virtual host') || '/',
    tls,
    ignoredOptions: named,
    otherIgnoredOptions: options.length - named.length,
  };
}

/**
 * The host list ends at the first '/', '?' or '#', as in oslo (urlparse). A password holding one of
 * them, unencoded, ends it early, and the rest of the password would be read (and shown) as a vhost,
 * an option or a port; whatever it holds, an '@' follows. So an '@' after the host list is refused
 * rather than guessed at, and so is a '#' (a transport_url has no fragment).
 */
function splitUrl(rest: string): { netloc: string; path: string; query: string } {
  const end = rest.search(/[/?#]/);
  const netloc = end < 0 ? rest : rest.slice(0, end);
  const tail = end < 0 ? '' : rest.slice(end);
  if (tail.includes('@') || tail.includes('#')) throw new InvalidTransportUrl(UNENCODED);
  const q = tail.indexOf('?');
  return { netloc, path: q < 0 ? tail : tail.slice(0, q), query: q < 0 ? '' : tail.slice(q + 1) };
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
