import net from 'node:net';
import type tls from 'node:tls';
import type { Config } from '../config/load.ts';
import { tlsFileReader } from '../config/tls-files.ts';
import type { BrokerHost } from '../config/transport-url.ts';

/**
 * TLS options for each broker host, or null when the transport URL does not ask for TLS. The files are
 * read only then (an unused caFile must not stop the daemon), at start and again at every connection,
 * so rotated certificates are picked up on the next one. A host name is verified against the
 * certificate (SNI) unless `servername` says otherwise; an IP address is verified as such.
 */
export function brokerTls(config: Config['amqp']): ((host: BrokerHost) => tls.ConnectionOptions) | null {
  if (!config.transport.tls) return null;
  const read = tlsFileReader(config.tls, 'amqp.tls');
  return (host) => {
    const files = read();
    const servername = files.servername ?? (net.isIP(host.hostname) === 0 ? host.hostname : undefined);
    return { ...files, ...(servername === undefined ? {} : { servername }) };
  };
}
