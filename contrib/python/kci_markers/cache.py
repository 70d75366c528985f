"""MarkerAwareCache: the cache object auth_token takes from the WSGI environment, honouring markers.

keystonemiddleware's auth_token keeps its validations in `environ[<key>]` when configured with
``[keystone_authtoken] cache = <key>`` (auth_token/_cache.py, _EnvCachePool): an object with
``get(key)`` and ``set(key, value, time=...)``. The value it passes to set is already serialized (JSON
bytes for memcache_security_strategy None, MAC + base64 for MAC and ENCRYPT), and get must give the
same back. This object stores those values in memcached, as auth_token would, together with the time
the validation began, and answers a cached value only while no applicable marker is at or after that
time (docs/protocol.md, Reader rule).

How cached-at is the start of the validation: auth_token always looks a token up first and, on a miss,
validates it with Keystone and then calls set, in the same thread. get records the time of the miss
for (key, current thread); set stamps the entry with it. A change that lands while the validation is
in flight gets a marker later than that stamp, so the entry it produced is stale.
"""

import collections
import threading
import time

from kci_markers import _memcached
from kci_markers import protocol
from kci_markers.cached_token import read_cached_token

WRAPPER_MAGIC = b'kci1:'
DEFAULT_MAX_PENDING = 10000

# When set finds no miss recorded for its validation (the pending table overflowed), the validation
# may have begun at any time: stamping it with the oldest time makes any applicable marker that exists
# invalidate it. That costs one extra validation at most, where stamping it "now" could keep a result
# that is older than a marker.
UNKNOWN_START_MS = 0


class MarkerAwareCache(object):
    """auth_token's environ cache: memcached storage plus the invalidation-marker check.

    :param memcached_servers: 'host:port' strings (or one comma-separated string) where the entries
        live, like [keystone_authtoken] memcached_servers.
    :param prefix: the daemon's markers.prefix.
    :param marker_servers: servers to read markers from, in order of preference; defaults to
        memcached_servers (the daemon writes every marker to every server of the region).
    :param clock: wall clock in epoch seconds; markers are compared with it in milliseconds.
    :param max_pending: how many started validations are remembered at most, oldest dropped first.

    One instance serves a whole process: auth_token keeps the object of its first request for good.
    It is safe for threads and eventlet greenlets, and builds its connections anew in a forked child.
    """

    def __init__(self, memcached_servers, prefix='kci', marker_servers=None, clock=time.time,
                 max_pending=DEFAULT_MAX_PENDING, socket_timeout=_memcached.DEFAULT_SOCKET_TIMEOUT,
                 dead_retry=_memcached.DEFAULT_DEAD_RETRY):
        servers = _server_list(memcached_servers)
        if not servers:
            raise ValueError('memcached_servers is required')
        self.prefix = protocol.check_prefix(prefix)
        self.memcached_servers = servers
        self.markers = _memcached.MarkerReader(_server_list(marker_servers) or servers,
                                               socket_timeout, dead_retry)
        self._store = _memcached.ProcessLocal(
            lambda: _memcached.make_client(servers, socket_timeout, dead_retry))
        self._clock = clock
        self._max_pending = max_pending
        self._pending = collections.OrderedDict()  # (key, thread id) -> miss time, oldest first
        self._lock = threading.Lock()

    def get(self, key):
        """auth_token's value for `key`, or None (a miss) when absent, not ours, or stale."""
        entry = _unwrap(self._store.get().get(key))
        if entry is None:
            return self._miss(key)
        cached_at_ms, value = entry
        values = self.markers.read(self.marker_keys_for(value))
        # No marker server answered: the markers cannot be ruled out, so revalidate (the safe side).
        if values is None or protocol.is_stale(cached_at_ms, values):
            return self._miss(key)
        return value

    def set(self, key, value, time=0, **kwargs):
        """Store auth_token's `value`, stamped with the time its validation began (the miss)."""
        cached_at_ms = self._pop_miss(key)
        if cached_at_ms is None:
            cached_at_ms = UNKNOWN_START_MS
        return self._store.get().set(key, _wrap(cached_at_ms, value), time=time)

    def close(self):
        """Close the calling thread's memcached connections; they reopen on the next call."""
        self._store.get().disconnect_all()
        self.markers.close()

    def marker_keys_for(self, value):
        """The marker keys that apply to a cached auth_token value.

        With memcache_security_strategy ENCRYPT the value cannot be read without the token id, which
        this object never sees (auth_token passes only the derived cache key), so the subjects are
        unknown and only the global marker applies.
        """
        token = read_cached_token(value)
        if token is None:
            return [protocol.marker_key(self.prefix, protocol.GLOBAL)]
        return protocol.marker_keys(token, self.prefix)

    def _now_ms(self):
        return int(self._clock() * 1000)

    def _miss(self, key):
        # auth_token validates next, in this thread: this is the time its request has not yet left.
        pending_key = (key, threading.get_ident())
        now_ms = self._now_ms()
        with self._lock:
            # A later miss of the same key in the same thread starts a new validation: the previous one
            # failed (no set), so its time is dropped.
            self._pending.pop(pending_key, None)
            self._pending[pending_key] = now_ms
            while len(self._pending) > self._max_pending:
                self._pending.popitem(last=False)
        return None

    def _pop_miss(self, key):
        with self._lock:
            return self._pending.pop((key, threading.get_ident()), None)


def _wrap(cached_at_ms, value):
    if isinstance(value, str):
        value = value.encode('utf-8')
    return b'%s%d:%s' % (WRAPPER_MAGIC, cached_at_ms, bytes(value))


def _unwrap(raw):
    """(cached_at_ms, auth_token value) from b'kci1:<ms>:<value>', or None for anything else."""
    if not isinstance(raw, bytes) or not raw.startswith(WRAPPER_MAGIC):
        return None
    stamp, sep, value = raw[len(WRAPPER_MAGIC):].partition(b':')
    cached_at_ms = protocol.parse_value(stamp)
    if not sep or not isinstance(cached_at_ms, int):
        return None
    return cached_at_ms, value


def _server_list(servers):
    if servers is None:
        return []
    if isinstance(servers, str):
        servers = servers.split(',')
    return [s.strip() for s in servers if s and s.strip()]
