"""MarkerAwareCache against the real memcached servers: auth_token's get/set with markers in between."""

import base64
import copy
import json
import os
import queue
import secrets
import socket
import threading
import time
import unittest

from kci_markers.cache import MarkerAwareCache
from kci_markers.protocol import marker_key

from tests.support import closed_port_server, MIDDLEWARE_FIXTURES, now_ms, RealMemcachedTest, SERVERS

T = 1795330000  # a fixed wall clock, in seconds, for the tests that need exact times
T_MS = T * 1000


class Clock(object):
    def __init__(self, seconds):
        self.seconds = seconds

    def __call__(self):
        return self.seconds


def token_value(user_id):
    """What auth_token caches with memcache_security_strategy None, for a token of `user_id`."""
    path = os.path.join(MIDDLEWARE_FIXTURES, 'auth_token--strategy-None.json')
    with open(path, encoding='utf-8') as f:
        data = copy.deepcopy(json.load(f)['1_value']['value_json'])
    data['token']['user']['id'] = user_id
    data['token']['audit_ids'] = [secrets.token_urlsafe(16)]
    return json.dumps(data).encode('utf-8')


def encrypted_value():
    """The shape of a strategy ENCRYPT value: 64-char MAC + base64(iv + ciphertext)."""
    return base64.b64encode(secrets.token_bytes(48)) + base64.b64encode(secrets.token_bytes(16 + 1440))


def remaining_ttl(key):
    """The expiry memcached holds for `key`, asked of whichever server has it (meta get)."""
    for server in SERVERS:
        host, port = server.split(':')
        with socket.create_connection((host, int(port)), timeout=2) as s:
            s.sendall(b'mg ' + key.encode() + b' t\r\n')
            reply = s.recv(256)
        if reply.startswith(b'HD'):
            return int(reply.split()[1][1:])
    return None


class Worker(threading.Thread):
    """A thread that stays alive while a test drives it: auth_token's request threads, one call at a time."""

    def __init__(self):
        super(Worker, self).__init__(daemon=True)
        self._calls = queue.Queue()
        self._results = queue.Queue()
        self.start()

    def run(self):
        for fn in iter(self._calls.get, None):
            self._results.put(fn())

    def call(self, fn):
        self._calls.put(fn)
        return self._results.get(timeout=10)

    def stop(self):
        self._calls.put(None)
        self.join(timeout=10)


class MarkerAwareCacheTest(RealMemcachedTest):
    def setUp(self):
        super(MarkerAwareCacheTest, self).setUp()
        self.clock = Clock(T)

    def cache(self, **kwargs):
        kwargs.setdefault('clock', self.clock)
        return self.closing(MarkerAwareCache(SERVERS, prefix=self.prefix, **kwargs))

    def key(self):
        key = 'tokens/%s-%s' % (self.prefix, secrets.token_hex(8))
        self.memcached.track_entry(key)
        return key

    def cached(self, cache, value, key=None):
        """auth_token's path for a new token: a miss, a validation, a set. Returns the key."""
        key = key or self.key()
        self.assertIsNone(cache.get(key))
        self.assertTrue(cache.set(key, value, time=300))
        return key

    def marker(self, kind, subject_id, value):
        self.memcached.write_marker(marker_key(self.prefix, kind, subject_id), value)

    def test_a_miss_then_a_set_stamps_the_entry_with_the_time_of_the_miss(self):
        cache, key, value = self.cache(), self.key(), token_value('u1')
        self.assertIsNone(cache.get(key))
        self.clock.seconds = T + 5  # the validation took 5 s
        self.assertTrue(cache.set(key, value, time=300))
        self.assertEqual(self.memcached.raw_entry(key), b'kci1:%d:' % T_MS + value)
        self.assertIn(remaining_ttl(key), range(295, 301))
        self.assertEqual(cache.get(key), value)

    def test_a_text_value_comes_back_as_its_utf8_bytes(self):
        cache = self.cache()
        key = self.cached(cache, '{"token": {"user": {"id": "j\u00f6rg"}}}')
        self.assertEqual(cache.get(key), '{"token": {"user": {"id": "j\u00f6rg"}}}'.encode('utf-8'))

    def test_a_user_marker_written_after_caching_invalidates_that_user_only(self):
        cache, value_b = self.cache(), token_value('user-b')
        a, b = self.cached(cache, token_value('user-a')), self.cached(cache, value_b)
        self.clock.seconds = T + 10
        self.marker('user', 'user-a', T_MS + 9000)
        self.assertIsNone(cache.get(a))
        self.assertEqual(cache.get(b), value_b)

    def test_a_marker_older_than_the_entry_does_not_invalidate_it(self):
        cache = self.cache()
        key = self.cached(cache, token_value('user-a'))
        self.marker('user', 'user-a', T_MS - 1)
        self.marker('global', None, T_MS - 1000)
        self.assertIsNotNone(cache.get(key))

    def test_a_marker_at_the_very_time_of_the_entry_invalidates_it(self):
        cache = self.cache()
        key = self.cached(cache, token_value('user-a'))
        self.marker('project', 'c3491cac1f4640b4b7de0aa38ffc53f0', T_MS)
        self.assertIsNone(cache.get(key))

    def test_the_global_marker_invalidates_every_entry(self):
        cache = self.cache()
        keys = [self.cached(cache, token_value('user-a')), self.cached(cache, token_value('user-b')),
                self.cached(cache, encrypted_value())]
        self.marker('global', None, T_MS + 1)
        for key in keys:
            self.assertIsNone(cache.get(key))

    def test_an_unreadable_value_is_invalidated_by_the_global_marker_only(self):
        cache = self.cache()
        value = encrypted_value()
        key = self.cached(cache, value)
        # Subject markers newer than the entry: they cannot apply, nobody knows whose token it is.
        self.marker('user', 'f777ac3800624126bef93ad8e4468313', T_MS + 1)
        self.marker('project', 'c3491cac1f4640b4b7de0aa38ffc53f0', T_MS + 1)
        self.marker('domain', 'default', T_MS + 1)
        self.assertEqual(cache.get(key), value)
        self.marker('global', None, T_MS + 1)
        self.assertIsNone(cache.get(key))

    def test_a_validation_that_began_before_a_marker_and_was_stored_after_it_is_stale(self):
        cache = self.cache(clock=time.time)
        key = self.key()
        self.assertIsNone(cache.get(key))
        # The change lands while the validation request is in flight.
        self.marker('user', 'user-a', now_ms())
        self.assertTrue(cache.set(key, token_value('user-a'), time=300))
        time.sleep(0.003)  # a validation that begins within the marker's millisecond is stale too
        self.assertIsNone(cache.get(key))
        # Revalidated after the marker: fresh again.
        self.assertTrue(cache.set(key, token_value('user-a'), time=300))
        self.assertIsNotNone(cache.get(key))

    def test_a_stale_entry_is_a_miss_that_stamps_the_revalidation(self):
        cache = self.cache()
        key = self.cached(cache, token_value('user-a'))
        self.marker('user', 'user-a', T_MS + 1000)
        self.clock.seconds = T + 2
        self.assertIsNone(cache.get(key))
        self.clock.seconds = T + 3
        self.assertTrue(cache.set(key, token_value('user-a'), time=300))
        self.assertTrue(self.memcached.raw_entry(key).startswith(b'kci1:%d:' % (T_MS + 2000)))
        self.assertIsNotNone(cache.get(key))

    def test_a_value_that_is_not_a_marker_means_stale(self):
        cache = self.cache()
        key = self.cached(cache, token_value('user-a'))
        self.marker('user', 'some-other-user', b'garbage')  # not applicable: no effect
        self.assertIsNotNone(cache.get(key))
        self.marker('user', 'user-a', b'garbage')
        self.assertIsNone(cache.get(key))

    def test_an_empty_marker_value_means_stale(self):
        cache = self.cache()
        key = self.cached(cache, token_value('user-a'))
        self.marker('global', None, b'')
        self.assertIsNone(cache.get(key))

    def test_a_value_stored_without_the_wrapper_is_a_miss(self):
        cache = self.cache()
        key = self.key()
        self.memcached.put_entry(key, token_value('user-a'))  # as auth_token stored it before the filter
        self.assertIsNone(cache.get(key))
        self.memcached.put_entry(key, b'kci1:12x:' + token_value('user-a'))
        self.assertIsNone(cache.get(key))
        # That miss started a validation: its result is stamped with the miss.
        self.clock.seconds = T + 1
        self.assertTrue(cache.set(key, token_value('user-a'), time=300))
        self.assertTrue(self.memcached.raw_entry(key).startswith(b'kci1:%d:' % T_MS))

    def test_when_no_marker_server_answers_the_entry_is_treated_as_stale(self):
        cache = self.cache(marker_servers=[closed_port_server()])
        key = self.cached(cache, token_value('user-a'))
        self.assertIsNone(cache.get(key))

    def test_markers_are_read_from_the_first_marker_server_that_answers(self):
        cache = self.cache(marker_servers=[closed_port_server(), SERVERS[1]])
        key = self.cached(cache, token_value('user-a'))
        self.assertIsNotNone(cache.get(key))
        self.marker('user', 'user-a', T_MS + 1)
        self.assertIsNone(cache.get(key))

    def test_concurrent_validations_of_one_token_keep_the_earlier_start(self):
        cache, key = self.cache(), self.key()
        first, second = Worker(), Worker()
        for worker in (first, second):
            self.addCleanup(worker.stop)
            self.addCleanup(worker.call, cache.close)  # runs first: its connections are the worker's
        self.assertIsNone(first.call(lambda: cache.get(key)))    # validation 1 begins at T
        self.clock.seconds = T + 2
        self.assertIsNone(second.call(lambda: cache.get(key)))   # validation 2 begins at T + 2
        self.marker('user', 'user-a', T_MS + 1000)                # a change lands between them
        self.assertTrue(second.call(lambda: cache.set(key, token_value('user-a'), time=300)))
        # Validation 1 saw the old state and finishes last: it must not pass for fresh.
        self.assertTrue(first.call(lambda: cache.set(key, token_value('user-a'), time=300)))
        self.assertTrue(self.memcached.raw_entry(key).startswith(b'kci1:%d:' % T_MS))
        self.assertIsNone(cache.get(key))

    def test_the_table_of_started_validations_is_bounded(self):
        cache = self.cache(max_pending=2)
        keys = [self.key() for _ in range(3)]
        for key in keys:
            self.assertIsNone(cache.get(key))
        # The oldest start was dropped: its result is stamped "unknown start", the oldest time.
        self.assertTrue(cache.set(keys[0], token_value('user-a'), time=300))
        self.assertTrue(self.memcached.raw_entry(keys[0]).startswith(b'kci1:0:'))
        self.assertIsNotNone(cache.get(keys[0]))  # no marker: still served
        self.marker('user', 'user-a', 1)
        self.assertIsNone(cache.get(keys[0]))     # any applicable marker: revalidated once
        self.assertTrue(cache.set(keys[2], token_value('user-b'), time=300))
        self.assertTrue(self.memcached.raw_entry(keys[2]).startswith(b'kci1:%d:' % T_MS))


if __name__ == '__main__':
    unittest.main()
