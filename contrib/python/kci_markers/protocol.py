"""Marker protocol v1 (docs/protocol.md), pure functions: keys, values, the markers of a token, the rule.

Nothing here does I/O or reads a clock. The same functions exist in TypeScript (src/core/marker.ts,
src/core/token-subjects.ts, src/reader/marker-keys.ts); both pass test/vectors/marker-protocol-v1.json.
"""

import hashlib
import re

PROTOCOL_VERSION = 'v1'

GLOBAL = 'global'

#: Every subject kind of v1, as it appears in keys.
KINDS = ('user', 'project', 'domain', 'role', 'trust', 'oauth-consumer', 'oauth-token', 'app-cred',
         'audit', 'audit-chain')

_VERBATIM_ID = re.compile(r'[A-Za-z0-9._-]{1,128}')
_PREFIX = re.compile(r'[A-Za-z0-9._-]{1,32}')
# fullmatch, not `$`: Python's `$` also matches before a trailing newline, and "12\n" is no marker.
_MARKER_TEXT = re.compile(r'[0-9]{1,16}')
_MARKER_BYTES = re.compile(rb'[0-9]{1,16}')
#: The largest marker value (2**53 - 1, JavaScript's Number.MAX_SAFE_INTEGER).
MAX_MARKER_MILLIS = 2 ** 53 - 1


class _Invalid(object):
    """A present value that is not a v1 marker: the reader treats it as "invalidated now"."""

    __slots__ = ()

    def __repr__(self):
        return 'INVALID'


INVALID = _Invalid()


def check_prefix(prefix):
    """Return `prefix` when it is a valid `markers.prefix` (1-32 of [A-Za-z0-9._-]), else raise ValueError."""
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise ValueError('marker prefix must be 1-32 characters of [A-Za-z0-9._-], got %r' % (prefix,))
    return prefix


def encode_id(subject_id):
    """The id itself when it is 1-128 of [A-Za-z0-9._-], else '~' + hex SHA-256 of its UTF-8 bytes.

    The hash keeps any id (a federated id, a non-ASCII LDAP DN, an empty string) inside memcached's key
    rules, and every reader can still derive it. No Unicode normalisation is applied.
    """
    if _VERBATIM_ID.fullmatch(subject_id):
        return subject_id
    return '~' + hashlib.sha256(subject_id.encode('utf-8')).hexdigest()


def marker_key(prefix, kind, subject_id=None):
    """`<prefix>:v1:global` for kind 'global', else `<prefix>:v1:<kind>:<encoded id>`."""
    if kind == GLOBAL:
        return '%s:%s:%s' % (prefix, PROTOCOL_VERSION, GLOBAL)
    if subject_id is None:
        raise ValueError('marker kind %r needs an id' % (kind,))
    return '%s:%s:%s:%s' % (prefix, PROTOCOL_VERSION, kind, encode_id(subject_id))


def parse_value(raw):
    """A stored marker value as the reader rule sees it.

    None when the marker is absent (raw is None); its time in epoch milliseconds (int) when the data
    is 1-16 ASCII digits, at most 2**53 - 1; INVALID for anything else that is present. Only str and bytes carry data:
    any other object (for example what a client unpickled) is INVALID as well.
    """
    if raw is None:
        return None
    if isinstance(raw, (bytes, bytearray)):
        return _in_range(int(raw)) if _MARKER_BYTES.fullmatch(raw) else INVALID
    if isinstance(raw, str):
        return _in_range(int(raw)) if _MARKER_TEXT.fullmatch(raw) else INVALID
    return INVALID


def _in_range(millis):
    # Above 2**53 - 1 no writer's value can be: JavaScript readers could not hold it exactly.
    return millis if millis <= MAX_MARKER_MILLIS else INVALID


def token_subjects(token):
    """Every subject a Keystone v3 token body carries, as (kind, id) pairs, in the TypeScript order.

    `token` is the `token` object of a GET /v3/auth/tokens response (what auth_token caches under
    "token"). Ids that are not non-empty strings are skipped; duplicates are kept (see marker_keys).
    """
    subjects = []

    def add(kind, subject_id):
        if isinstance(subject_id, str) and subject_id != '':
            subjects.append((kind, subject_id))

    token = _record(token)
    user = _record(token.get('user'))
    add('user', user.get('id'))
    add('domain', _record(user.get('domain')).get('id'))
    project = _record(token.get('project'))
    add('project', project.get('id'))
    add('domain', _record(project.get('domain')).get('id'))
    add('domain', _record(token.get('domain')).get('id'))
    for role in _array(token.get('roles')):
        add('role', _record(role).get('id'))
    trust = _record(token.get('OS-TRUST:trust'))
    add('trust', trust.get('id'))
    # A trust token acts for the trustor with the trustor's current roles: an event on either user voids it.
    add('user', _record(trust.get('trustor_user')).get('id'))
    add('user', _record(trust.get('trustee_user')).get('id'))
    add('app-cred', _record(token.get('application_credential')).get('id'))
    oauth = _record(token.get('OS-OAUTH1'))
    add('oauth-consumer', oauth.get('consumer_id'))
    add('oauth-token', oauth.get('access_token_id'))
    audit_ids = _array(token.get('audit_ids'))
    for audit_id in audit_ids:
        add('audit', audit_id)
    # A rescoped token carries [own audit id, chain id]; an original token's own id starts its chain.
    if audit_ids:
        add('audit-chain', audit_ids[-1])
    return subjects


def marker_keys(token, prefix='kci'):
    """The global marker key, then the key of every subject of `token`, without duplicates."""
    keys = [marker_key(prefix, GLOBAL)]
    for kind, subject_id in token_subjects(token):
        key = marker_key(prefix, kind, subject_id)
        if key not in keys:
            keys.append(key)
    return keys


def is_stale(cached_at_ms, values):
    """Reader rule: stale when cached_at_ms <= any applicable marker that is present.

    `values` maps marker key -> raw stored value (str or bytes) of the markers that exist; a value of
    None counts as absent. A present value that is not a marker (INVALID) means "invalidated now", so
    the entry is stale whatever its cached-at. `cached_at_ms` must have been taken before the
    validation request was sent.
    """
    for raw in values.values():
        marker = parse_value(raw)
        if marker is INVALID:
            return True
        if marker is not None and cached_at_ms <= marker:
            return True
    return False


def _record(value):
    return value if isinstance(value, dict) else {}


def _array(value):
    return value if isinstance(value, list) else []
