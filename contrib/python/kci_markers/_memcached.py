"""python-memcached, as kci_markers needs it: raw bytes back, dead servers noticed, no sockets across fork.

python-memcached (the `memcache` module keystonemiddleware installs) hides failures: a get on a server
it cannot reach returns nothing, exactly like a miss, and it marks the server dead for `dead_retry`
seconds instead of raising. A marker that cannot be read must not look like a marker that is absent, so
MarkerReader checks the server's dead mark after every read.
"""

import logging
import os
import threading
import time

import memcache

LOG = logging.getLogger(__name__)

DEFAULT_SOCKET_TIMEOUT = 1.0
DEFAULT_DEAD_RETRY = 10
UNREACHABLE_WARNING_INTERVAL = 60.0


class RawClient(memcache.Client):
    """A memcache.Client whose gets return the stored bytes, whatever the memcached flags say.

    The stock client unpickles values with flag 1, inflates flag 8 and turns flag 2 into an int; data
    read from the network is never unpickled here, and a marker is judged by its bytes alone
    (docs/protocol.md, Values). Written against python-memcached 1.59's _recv_value(server, flags, rlen).
    Like its base class, an instance keeps its connections per thread (it is a threading.local; per
    greenlet under eventlet's monkey patching).
    """

    def _recv_value(self, server, flags, rlen):
        rlen += 2  # the data is followed by \r\n
        buf = server.recv(rlen)
        if len(buf) != rlen:
            raise memcache._Error('received %d bytes when expecting %d' % (len(buf), rlen))
        return buf[:-2]


def make_client(servers, socket_timeout=DEFAULT_SOCKET_TIMEOUT, dead_retry=DEFAULT_DEAD_RETRY):
    return RawClient(list(servers), debug=0, socket_timeout=socket_timeout, dead_retry=dead_retry)


class ProcessLocal(object):
    """Builds its value once per process.

    A web server may load the pipeline in a parent and fork workers; sockets opened in the parent must
    not be shared with the children, so each process builds its own clients on first use.
    """

    def __init__(self, factory):
        self._factory = factory
        self._lock = threading.Lock()
        self._pid = None
        self._value = None

    def get(self):
        pid = os.getpid()
        if self._pid != pid:
            with self._lock:
                if self._pid != pid:
                    self._value = self._factory()
                    self._pid = pid
        return self._value


class MarkerReader(object):
    """Reads markers with one multi-get from one server: the first of `servers` that answers.

    The daemon writes every marker to every server, so any server that answers has them all. The
    next server is asked only when one does not answer.
    """

    def __init__(self, servers, socket_timeout=DEFAULT_SOCKET_TIMEOUT, dead_retry=DEFAULT_DEAD_RETRY):
        servers = list(servers)
        if not servers:
            raise ValueError('at least one marker server is needed')
        self.servers = servers
        # One client per server: a client over several servers would shard the keys between them.
        self._clients = ProcessLocal(
            lambda: [make_client([s], socket_timeout, dead_retry) for s in servers])
        self._warned_at = None

    def close(self):
        """Close this thread's connections (python-memcached keeps them per thread)."""
        for client in self._clients.get():
            client.disconnect_all()

    def read(self, keys):
        """{key: raw bytes} for the markers that exist, or None when no server answered."""
        keys = list(keys)
        for server, client in zip(self.servers, self._clients.get()):
            values = _multi_get(server, client, keys)
            if values is not None:
                return values
        self._warn_unreachable()
        return None

    def _warn_unreachable(self):
        # Every read fails while the servers are down: say so once a minute, not once per request.
        now = time.monotonic()
        if self._warned_at is None or now - self._warned_at >= UNREACHABLE_WARNING_INTERVAL:
            self._warned_at = now
            LOG.warning('no marker server answered (%s): cached entries are treated as stale',
                        ', '.join(self.servers))


def _multi_get(server, client, keys):
    try:
        values = client.get_multi(keys)
    except Exception:
        # Unknown flags or a protocol surprise: the connection's state is unknown, start afresh.
        LOG.debug('marker read from %s failed', server, exc_info=True)
        client.disconnect_all()
        return None
    # python-memcached marks a server dead (and returns what it has) when it cannot connect, the
    # connection drops or a read times out; only a server not marked dead answered in full.
    if client.servers[0].deaduntil:
        return None
    return values
