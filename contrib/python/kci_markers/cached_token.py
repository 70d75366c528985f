"""Reading what keystonemiddleware's auth_token caches, far enough to know which token it is about.

The same semantics as readCachedToken in src/core/cached-validation.ts:

- memcache_security_strategy None: JSON ``{"token": {...}}`` (older releases read ``[data, expires]``);
- MAC: a 64-character base64 HMAC followed by the base64 of that JSON (readable without any key);
- ENCRYPT: the MAC followed by base64(iv + AES-CBC ciphertext): unreadable without the token itself.

Any of them may arrive zlib-compressed by python-binary-memcached (memcached flag 8), as with auth_token
over TLS or SASL; pass the memcached flags to have them inflated.
"""

import base64
import binascii
import json
import re
import zlib

# base64 of a 48-byte HMAC-SHA384 (keystonemiddleware _memcache_crypt.DIGEST_LENGTH_B64).
MAC_LENGTH = 64
# python-binary-memcached zlib-compresses values over 128 bytes and marks them with this flag.
BMEMCACHED_COMPRESSED = 1 << 3
MAX_INFLATED_BYTES = 16 * 2 ** 20

_BASE64 = re.compile(r'[A-Za-z0-9+/]+={0,2}')


def read_cached_token(value, flags=0):
    """The token body (a dict) of a cached auth_token value, or None when it cannot be read.

    `value` is what auth_token stores (bytes, or str); `flags` the memcached flags it came with.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    else:
        raw = bytes(value) if flags & BMEMCACHED_COMPRESSED == 0 else _inflate(value)
        if raw is None:
            return None
        text = raw.decode('utf-8', 'replace')
    token = _from_json(text)
    if token is None and len(text) > MAC_LENGTH:
        token = _from_json(_from_base64(text[MAC_LENGTH:]))
    return token


def _inflate(value):
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(bytes(value), MAX_INFLATED_BYTES)
    except zlib.error:
        return None
    # Output left over beyond the limit: refuse it rather than inflate a bomb.
    return None if inflater.unconsumed_tail else data


def _from_base64(text):
    if not _BASE64.fullmatch(text):
        return ''
    try:
        return base64.b64decode(text + '=' * (-len(text) % 4)).decode('utf-8', 'replace')
    except (binascii.Error, ValueError):
        return ''


def _from_json(text):
    stripped = text.lstrip()
    if not stripped or stripped[0] not in '{[':
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    # The legacy tuple form is [data, expires].
    if isinstance(data, list):
        data = data[0] if data else None
    token = data.get('token') if isinstance(data, dict) else None
    return token if isinstance(token, dict) else None
