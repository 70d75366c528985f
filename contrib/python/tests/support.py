"""What the tests share: paths, the real local memcached servers, markers written as the daemon does."""

import os
import secrets
import socket
import time
import unittest
import warnings

import memcache

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.normpath(os.path.join(HERE, '..', '..', '..'))
VECTORS = os.path.join(REPO_ROOT, 'test', 'vectors', 'marker-protocol-v1.json')
# What real keystonemiddleware wrote to memcached: the project's captured fixtures (test/fixtures/README.md).
MIDDLEWARE_FIXTURES = os.path.join(REPO_ROOT, 'test', 'fixtures', 'keystonemiddleware-memcache')

# The two memcached servers the project's tests run against. Never flushed here: every test uses keys
# of its own and deletes them.
SERVERS = ['127.0.0.1:11211', '127.0.0.1:11212']


def unique_prefix():
    return 'kci-pytest-' + secrets.token_hex(6)


def now_ms():
    return int(time.time() * 1000)


def closed_port_server():
    """'127.0.0.1:<port>' where nothing listens (a port the kernel just handed out and took back)."""
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return '127.0.0.1:%d' % port


class Memcached(object):
    """Writes and removes test data on the real servers, and remembers what to remove."""

    def __init__(self):
        self._clients = [memcache.Client([s]) for s in SERVERS]
        self._sharded = memcache.Client(SERVERS)
        self._markers = []
        self._entries = []

    def write_marker(self, key, value):
        """A marker on every server, as the daemon writes it: decimal ms (or any raw data), flags 0."""
        data = value if isinstance(value, bytes) else str(value).encode('ascii')
        for client in self._clients:
            # bytes are stored by python-memcached with flags 0, as the protocol says.
            assert client.set(key, data, time=600), 'memcached refused %s' % key
            client.disconnect_all()  # also called from other threads (a stub Keystone's handler)
        self._markers.append(key)

    def put_entry(self, key, raw):
        """A raw auth_token-style entry where python-memcached's sharding (auth_token's too) puts it."""
        assert self._sharded.set(key, raw, time=600)
        self._entries.append(key)

    def raw_entry(self, key):
        return self._sharded.get(key)

    def track_entry(self, key):
        self._entries.append(key)

    def cleanup(self):
        for key in self._markers:
            for client in self._clients:
                client.delete(key)
        for key in self._entries:
            self._sharded.delete(key)
        for client in self._clients + [self._sharded]:
            client.disconnect_all()


class RealMemcachedTest(unittest.TestCase):
    """Base for tests against the real servers: test data removed afterwards, connections closed."""

    def setUp(self):
        super(RealMemcachedTest, self).setUp()
        # python-memcached 1.59 does not close a socket whose connect failed (memcache.py _get_socket);
        # the tests of unreachable servers would print that warning in the middle of their result line.
        self.enterContext(warnings.catch_warnings())
        warnings.filterwarnings('ignore', category=ResourceWarning, module='memcache')
        self.memcached = Memcached()
        self.addCleanup(self.memcached.cleanup)
        self.prefix = unique_prefix()

    def closing(self, obj):
        """`obj` (with a close() for this thread's connections), closed when the test ends."""
        self.addCleanup(obj.close)
        return obj
