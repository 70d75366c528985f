"""A dogpile.cache region invalidation strategy that honours the global invalidation marker.

For processes that cache through oslo.cache / dogpile regions::

    from dogpile.cache import make_region
    from kci_markers.dogpile import MarkerInvalidationStrategy

    region = make_region().configure(
        'dogpile.cache.memory',
        expiration_time=300,
        region_invalidator=MarkerInvalidationStrategy(['127.0.0.1:11211'], prefix='kci'),
    )

A region holds values that are not about one token, so no subject marker applies to them: only
`<prefix>:v1:global` does. A value whose creation time is at or before the global marker is treated
as hard-invalidated. dogpile's own in-process ``region.invalidate(hard=...)`` keeps working.

Two limits to know:

- dogpile stamps a value's creation time ("ct") when the creator has returned, not before it started,
  while the reader rule wants the time before the data was fetched. A value computed from data read
  before a change but stored after the marker was written escapes the marker. The writer's clock-skew
  margin (markers.clockSkewMarginMs, 2 s by default) covers creators faster than the margin.
- The marker is re-read at most every `recheck_seconds` (default 1 s) instead of on every cache read,
  which would cost a memcached round trip per get. That adds up to `recheck_seconds` of staleness.

When no marker server answers, every value older than that check is treated as invalidated (the safe
side, as the protocol's unparsable-value rule): the region then works as if it had no cache.
"""

import threading
import time

from dogpile.cache.region import DefaultInvalidationStrategy
from dogpile.cache.region import RegionInvalidationStrategy

from kci_markers import _memcached
from kci_markers import protocol


class MarkerInvalidationStrategy(RegionInvalidationStrategy):
    """RegionInvalidationStrategy: local invalidation as dogpile's default, plus the global marker.

    :param marker_servers: 'host:port' strings (or one comma-separated string), in order of preference.
    :param prefix: the daemon's markers.prefix.
    :param recheck_seconds: how long a read of the global marker is reused; 0 reads it every time.
    """

    def __init__(self, marker_servers, prefix='kci', recheck_seconds=1.0,
                 socket_timeout=_memcached.DEFAULT_SOCKET_TIMEOUT,
                 dead_retry=_memcached.DEFAULT_DEAD_RETRY, monotonic=time.monotonic):
        if isinstance(marker_servers, str):
            marker_servers = [s.strip() for s in marker_servers.split(',') if s.strip()]
        self.key = protocol.marker_key(protocol.check_prefix(prefix), protocol.GLOBAL)
        self.recheck_seconds = recheck_seconds
        self._reader = _memcached.MarkerReader(marker_servers, socket_timeout, dead_retry)
        self._local = DefaultInvalidationStrategy()
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._checked_at = None  # monotonic time of the last read
        self._marker = None      # its outcome: None (absent), epoch ms, or INVALID

    # -- dogpile's interface ------------------------------------------------------------------

    def invalidate(self, hard=True):
        self._local.invalidate(hard)

    def is_invalidated(self, timestamp):
        return self._local.is_invalidated(timestamp) or self._marker_invalidates(timestamp)

    def is_hard_invalidated(self, timestamp):
        return self._local.is_hard_invalidated(timestamp) or self._marker_invalidates(timestamp)

    def is_soft_invalidated(self, timestamp):
        # Markers invalidate hard: get_or_create asks is_hard_invalidated first and regenerates.
        return self._local.is_soft_invalidated(timestamp)

    def was_hard_invalidated(self):
        return self._local.was_hard_invalidated() or self.global_marker() is not None

    def was_soft_invalidated(self):
        return self._local.was_soft_invalidated()

    def close(self):
        """Close the calling thread's memcached connections; they reopen on the next read."""
        self._reader.close()

    # -- the marker ---------------------------------------------------------------------------

    def global_marker(self):
        """The global marker: None when absent, its epoch ms, or INVALID (also when unreadable)."""
        now = self._monotonic()
        with self._lock:
            if self._checked_at is not None and now - self._checked_at < self.recheck_seconds:
                return self._marker
        values = self._reader.read([self.key])
        # Unreachable: the marker cannot be ruled out, so the values are treated as invalidated now.
        marker = protocol.INVALID if values is None else protocol.parse_value(values.get(self.key))
        with self._lock:
            self._checked_at = now
            self._marker = marker
        return marker

    def _marker_invalidates(self, timestamp):
        marker = self.global_marker()
        if marker is None:
            return False
        if marker is protocol.INVALID:
            return True
        return timestamp * 1000 <= marker
