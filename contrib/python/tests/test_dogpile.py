"""MarkerInvalidationStrategy in a real dogpile CacheRegion, the global marker read from real memcached."""

import itertools
import time
import unittest

from dogpile.cache import make_region
from dogpile.cache.api import NO_VALUE

from kci_markers.dogpile import MarkerInvalidationStrategy
from kci_markers.protocol import marker_key

from tests.support import closed_port_server, now_ms, RealMemcachedTest, SERVERS


class Monotonic(object):
    def __init__(self):
        self.seconds = 100.0

    def __call__(self):
        return self.seconds


class MarkerInvalidationStrategyTest(RealMemcachedTest):
    def setUp(self):
        super(MarkerInvalidationStrategyTest, self).setUp()
        self.counter = itertools.count(1)

    def region(self, servers=SERVERS, **options):
        options.setdefault('recheck_seconds', 0)
        strategy = self.closing(MarkerInvalidationStrategy(servers, prefix=self.prefix, **options))
        region = make_region().configure('dogpile.cache.memory', expiration_time=300,
                                         region_invalidator=strategy)
        return region, strategy

    def create(self):
        return next(self.counter)

    def write_global_marker(self, value):
        self.memcached.write_marker(marker_key(self.prefix, 'global'), value)

    def mark_now(self):
        """A global marker strictly after everything created so far, and before anything created next."""
        time.sleep(0.003)
        self.write_global_marker(now_ms())
        time.sleep(0.003)

    def test_a_value_created_before_the_global_marker_is_regenerated_after_it(self):
        region, strategy = self.region()
        self.assertEqual(region.get_or_create('k', self.create), 1)
        self.assertEqual(region.get_or_create('k', self.create), 1)
        self.mark_now()
        self.assertIs(region.get('k'), NO_VALUE)
        self.assertEqual(region.get_or_create('k', self.create), 2)
        self.assertTrue(strategy.was_hard_invalidated())

    def test_a_value_created_after_the_global_marker_is_kept(self):
        region, _ = self.region()
        self.mark_now()
        self.assertEqual(region.get_or_create('k', self.create), 1)
        self.assertEqual(region.get_or_create('k', self.create), 1)
        self.assertEqual(region.get('k'), 1)

    def test_local_hard_invalidation_still_works(self):
        region, strategy = self.region()
        self.assertEqual(region.get_or_create('k', self.create), 1)
        region.invalidate()
        self.assertEqual(region.get_or_create('k', self.create), 2)
        self.assertEqual(region.get_or_create('k', self.create), 2)
        self.assertTrue(strategy.was_hard_invalidated())
        self.assertFalse(strategy.was_soft_invalidated())

    def test_local_soft_invalidation_still_works(self):
        region, strategy = self.region()
        self.assertEqual(region.get_or_create('k', self.create), 1)
        region.invalidate(hard=False)
        self.assertTrue(strategy.was_soft_invalidated())
        self.assertFalse(strategy.was_hard_invalidated())
        self.assertEqual(region.get_or_create('k', self.create), 2)
        self.assertEqual(region.get_or_create('k', self.create), 2)

    def test_no_marker_is_no_invalidation(self):
        region, strategy = self.region()
        self.assertEqual(region.get_or_create('k', self.create), 1)
        self.assertEqual(region.get_or_create('k', self.create), 1)
        self.assertFalse(strategy.was_hard_invalidated())

    def test_a_global_value_that_is_not_a_marker_invalidates_everything(self):
        region, _ = self.region()
        self.write_global_marker(b'garbage')
        self.assertEqual(region.get_or_create('k', self.create), 1)
        self.assertEqual(region.get_or_create('k', self.create), 2)

    def test_when_no_marker_server_answers_values_are_regenerated(self):
        region, _ = self.region(servers=[closed_port_server()])
        self.assertEqual(region.get_or_create('k', self.create), 1)
        self.assertEqual(region.get_or_create('k', self.create), 2)

    def test_the_marker_is_reread_only_every_recheck_seconds(self):
        monotonic = Monotonic()
        region, _ = self.region(recheck_seconds=5, monotonic=monotonic)
        self.assertEqual(region.get_or_create('k', self.create), 1)
        self.assertEqual(region.get_or_create('k', self.create), 1)  # a cached value: the marker is read
        self.mark_now()
        monotonic.seconds += 4.9  # the last read (no marker) is still reused: up to 5 s stale
        self.assertEqual(region.get_or_create('k', self.create), 1)
        monotonic.seconds += 0.1
        self.assertEqual(region.get_or_create('k', self.create), 2)


if __name__ == '__main__':
    unittest.main()
