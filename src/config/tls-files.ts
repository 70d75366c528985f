import { readFileSync } from 'node:fs';
import type tls from 'node:tls';

export interface TlsFiles {
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly servername?: string | undefined;
  readonly rejectUnauthorized: boolean;
}

/** Node TLS options from the PEM files named in the config (read once, at start). */
export function readTlsFiles(t: TlsFiles): tls.ConnectionOptions {
  return {
    ...(t.caFile === undefined ? {} : { ca: readFileSync(t.caFile) }),
    ...(t.certFile === undefined ? {} : { cert: readFileSync(t.certFile) }),
    ...(t.keyFile === undefined ? {} : { key: readFileSync(t.keyFile) }),
    ...(t.servername === undefined ? {} : { servername: t.servername }),
    rejectUnauthorized: t.rejectUnauthorized,
  };
}
