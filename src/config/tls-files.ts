import { createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type tls from 'node:tls';
import { errorMessage } from '../util/errors.ts';
import { readSecretFile } from './secret-file.ts';

export interface TlsFiles {
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly keyPassphraseFile?: string | undefined;
  readonly servername?: string | undefined;
  readonly rejectUnauthorized: boolean;
}

/** Node TLS options, read from the files afresh on each call. */
export type TlsOptionsReader = () => tls.ConnectionOptions;

/**
 * Node TLS options from the PEM files of one TLS block (`field`, e.g. `memcached.tls`, names it in
 * errors). The files are read once now, so a missing file or a wrong passphrase stops the start, and
 * looked at again by every call: each new connection (and each Keystone request) calls it, so a
 * certificate, key or CA that cert-manager rotates on disk is used from the next connection on,
 * without a restart. They are read again, and the key opened again, only when one of them changed.
 */
export function tlsFileReader(t: TlsFiles, field: string): TlsOptionsReader {
  const paths = [t.caFile, t.certFile, t.keyFile, t.keyPassphraseFile].filter((p) => p !== undefined);
  let last: { stamp: string; options: tls.ConnectionOptions } | undefined;
  const read = (): tls.ConnectionOptions => {
    const stamp = filesStamp(paths);
    if (stamp !== null && stamp === last?.stamp) return last.options;
    const options = readAll();
    if (stamp !== null) last = { stamp, options };
    return options;
  };
  const readAll = (): tls.ConnectionOptions => {
    const key = t.keyFile === undefined ? undefined : readFile(`${field}.keyFile`, t.keyFile);
    const passphrase =
      t.keyPassphraseFile === undefined ? undefined : readPassphrase(field, t.keyPassphraseFile);
    if (key !== undefined) checkKey(key, passphrase, field);
    return {
      ...(t.caFile === undefined ? {} : { ca: readFile(`${field}.caFile`, t.caFile) }),
      ...(t.certFile === undefined ? {} : { cert: readFile(`${field}.certFile`, t.certFile) }),
      ...(key === undefined ? {} : { key }),
      ...(passphrase === undefined ? {} : { passphrase }),
      ...(t.servername === undefined ? {} : { servername: t.servername }),
      rejectUnauthorized: t.rejectUnauthorized,
    };
  };
  read();
  return read;
}

/** What changes when a file is replaced or rewritten; null when one cannot be looked at (read it). */
function filesStamp(paths: readonly string[]): string | null {
  try {
    return paths
      .map((path) => {
        const s = statSync(path);
        return `${s.ino}:${s.size}:${s.mtimeMs}`;
      })
      .join('|');
  } catch {
    return null;
  }
}

function readFile(field: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new Error(`${field}: ${errorMessage(cause)}`, { cause });
  }
}

// A secret file usually ends with the newline its writer added; the passphrase does not.
function readPassphrase(field: string, path: string): string {
  const name = `${field}.keyPassphraseFile`;
  let text: string;
  try {
    text = readSecretFile(path).replace(/\r?\n$/, '');
  } catch (error) {
    throw new Error(`${name}: ${errorMessage(error)}`);
  }
  if (text === '') throw new Error(`${name}: the file is empty`);
  return text;
}

/** PKCS#8 (`ENCRYPTED PRIVATE KEY`) and OpenSSL's traditional format (`Proc-Type: 4,ENCRYPTED`). */
const ENCRYPTED_PEM = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/;

/**
 * OpenSSL's own error for a key it cannot open ("bad decrypt", "interrupted or cancelled") says neither
 * which key nor what to do, and would come from every connection attempt; this names the field. The
 * passphrase is never printed.
 */
function checkKey(key: Buffer, passphrase: string | undefined, field: string): void {
  if (passphrase === undefined && ENCRYPTED_PEM.test(key.toString('latin1'))) {
    throw new Error(`${field}.keyFile is encrypted: set ${field}.keyPassphraseFile`);
  }
  try {
    createPrivateKey(passphrase === undefined ? { key } : { key, passphrase });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new Error(
      passphrase === undefined
        ? `${field}.keyFile: not a PEM private key (${code})`
        : `${field}.keyPassphraseFile: the passphrase does not open ${field}.keyFile (${code})`,
      { cause },
    );
  }
}
