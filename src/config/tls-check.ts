import { errorMessage } from '../util/errors.ts';
import type { Config } from './load.ts';
import { type TlsFiles, tlsFileReader } from './tls-files.ts';

/**
 * The TLS blocks the daemon would read at start (those its endpoints use: an unused caFile is never
 * read), each read once now, as `run` would: a missing file, an unreadable key or a wrong passphrase is
 * a problem `check-config` reports, named by its field, instead of a start that fails later.
 */
export function tlsFileProblems(config: Config): string[] {
  const used: Array<[TlsFiles, string]> = [];
  if (config.amqp.transport.tls) used.push([config.amqp.tls, 'amqp.tls']);
  if (config.memcached.tls.enabled) used.push([config.memcached.tls, 'memcached.tls']);
  const r = config.revocations;
  if (r.enabled && r.authUrl !== undefined && new URL(r.authUrl).protocol === 'https:') {
    used.push([r.tls, 'revocations.tls']);
  }
  const problems: string[] = [];
  for (const [files, field] of used) {
    try {
      tlsFileReader(files, field);
    } catch (error) {
      problems.push(errorMessage(error));
    }
  }
  return problems;
}
