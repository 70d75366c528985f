/**
 * What keystonemiddleware's auth_token caches under `tokens/…`, decoded far enough to read the token:
 * - memcache_security_strategy None: JSON `{"token": {…}}` (older releases: `[{"token": …}, expires]`);
 * - MAC: a 64-character base64 HMAC followed by the base64 of that JSON (readable without any key);
 * - ENCRYPT: MAC + base64(iv + AES-CBC ciphertext) — unreadable without the token itself.
 * Returns the token body, or null when the value cannot be read.
 */
export function readCachedToken(value: Uint8Array): Readonly<Record<string, unknown>> | null {
  const text = Buffer.from(value).toString('utf8');
  return fromJson(text) ?? (text.length > MAC_LENGTH ? fromJson(fromBase64(text.slice(MAC_LENGTH))) : null);
}

// base64 of a 48-byte HMAC-SHA384.
const MAC_LENGTH = 64;
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
