import { inflateSync } from 'node:zlib';

/**
 * What keystonemiddleware's auth_token caches under `tokens/…`, decoded far enough to read the token:
 * - memcache_security_strategy None: JSON `{"token": {…}}` (older releases: `[{"token": …}, expires]`);
 * - MAC: a 64-character base64 HMAC followed by the base64 of that JSON (readable without any key);
 * - ENCRYPT: MAC + base64(iv + AES-CBC ciphertext) — unreadable without the token itself.
 * Any of them may arrive zlib-compressed by python-binary-memcached (memcached flag 8).
 * Returns the token body, or null when the value cannot be read.
 */
export function readCachedToken(value: Uint8Array, flags = 0): Readonly<Record<string, unknown>> | null {
  if (value.byteLength > MAX_ENTRY_BYTES) return null;
  const raw = (flags & BMEMCACHED_COMPRESSED) === 0 ? value : inflate(value);
  if (raw === null) return null;
  const text = Buffer.from(raw).toString('utf8');
  return fromJson(text) ?? (text.length > MAC_LENGTH ? fromJson(fromBase64(text.slice(MAC_LENGTH))) : null);
}

// base64 of a 48-byte HMAC-SHA384.
const MAC_LENGTH = 64;
// python-binary-memcached (auth_token with memcache TLS or SASL) zlib-compresses values over 128 bytes
// and marks them with this flag.
const BMEMCACHED_COMPRESSED = 1 << 3;
/**
 * The most of an entry that is read, stored or inflated: a real token entry, service catalog included,
 * is tens of KB, while 16 KiB of zlib inflate to 16 MiB, whose parse stalls the purge for most of a
 * second and takes hundreds of MB. A larger entry is unreadable (and deleted with those, as it may be
 * the subject's).
 */
export const MAX_ENTRY_BYTES = 2 ** 20;

function inflate(value: Uint8Array): Uint8Array | null {
  try {
    return inflateSync(value, { maxOutputLength: MAX_ENTRY_BYTES });
  } catch {
    return null;
  }
}
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function fromBase64(text: string): string {
  return BASE64.test(text) ? Buffer.from(text, 'base64').toString('utf8') : '';
}

function fromJson(text: string): Readonly<Record<string, unknown>> | null {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return null;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  // The legacy tuple form is [data, expires].
  if (Array.isArray(data)) data = data[0];
  const token =
    typeof data === 'object' && data !== null ? (data as Record<string, unknown>).token : undefined;
  return typeof token === 'object' && token !== null && !Array.isArray(token)
    ? (token as Record<string, unknown>)
    : null;
}
