"""The paste filter: one long-lived cache object in every request's environment."""

import configparser
import os
import tempfile
import unittest

import webob
from paste.deploy import loadapp
from paste.deploy import loadfilter

from kci_markers.cache import MarkerAwareCache
from kci_markers.filter import filter_factory

from tests.support import HERE, SERVERS, unique_prefix

EXAMPLE = os.path.join(HERE, '..', 'api-paste.ini.example')

PIPELINE = """
[pipeline:main]
pipeline = kci_markers recorder

[filter:kci_markers]
paste.filter_factory = kci_markers.filter:filter_factory
memcached_servers = %(servers)s
marker_prefix = %(prefix)s
environ_key = test.cache

[app:recorder]
paste.app_factory = tests.test_filter:recorder_factory
"""

seen = []


def recorder_factory(global_conf, **local_conf):
    def recorder(environ, start_response):
        seen.append(environ.get('test.cache'))
        start_response('204 No Content', [])
        return []
    return recorder


class PasteFilter(unittest.TestCase):
    def setUp(self):
        del seen[:]

    def test_a_pipeline_hands_every_request_the_same_cache(self):
        prefix = unique_prefix()
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'api-paste.ini')
            with open(path, 'w') as f:
                f.write(PIPELINE % {'servers': ', '.join(SERVERS), 'prefix': prefix})
            app = loadapp('config:' + path)
        for _ in range(3):
            self.assertEqual(webob.Request.blank('/').get_response(app).status_int, 204)
        self.assertEqual(len(seen), 3)
        self.assertIsInstance(seen[0], MarkerAwareCache)
        self.assertTrue(all(cache is seen[0] for cache in seen))
        self.assertEqual(seen[0].prefix, prefix)
        self.assertEqual(seen[0].memcached_servers, SERVERS)
        self.assertEqual(seen[0].markers.servers, SERVERS)

    def test_pipelines_of_one_process_with_the_same_configuration_share_one_cache(self):
        prefix = unique_prefix()
        first = filter_factory({}, memcached_servers=','.join(SERVERS), marker_prefix=prefix)(None)
        second = filter_factory({}, memcached_servers=','.join(SERVERS), marker_prefix=prefix)(None)
        other = filter_factory({}, memcached_servers=','.join(SERVERS), marker_prefix=unique_prefix())(None)
        self.assertIs(first.cache, second.cache)
        self.assertIsNot(first.cache, other.cache)

    def test_defaults_and_options(self):
        wrapped = filter_factory({}, memcached_servers=SERVERS[0])(None)
        self.assertEqual((wrapped.environ_key, wrapped.cache.prefix), ('kci.cache', 'kci'))
        wrapped = filter_factory({}, memcached_servers=SERVERS[0], marker_servers=' %s , %s' % (
            SERVERS[1], SERVERS[0]), environ_key='other.cache')(None)
        self.assertEqual(wrapped.environ_key, 'other.cache')
        self.assertEqual(wrapped.cache.markers.servers, [SERVERS[1], SERVERS[0]])

    def test_memcached_servers_and_a_valid_prefix_are_required(self):
        self.assertRaises(ValueError, filter_factory, {})
        self.assertRaises(ValueError, filter_factory, {}, memcached_servers=' , ')
        self.assertRaises(ValueError, filter_factory, {}, memcached_servers=SERVERS[0], marker_prefix='a b')

    def test_the_example_puts_the_filter_before_authtoken_in_every_pipeline(self):
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(EXAMPLE)
        pipelines = [parser[s]['pipeline'].split() for s in parser.sections() if s.startswith('pipeline:')]
        with_auth = [p for p in pipelines if 'authtoken' in p]
        self.assertTrue(with_auth)
        for pipeline in with_auth:
            self.assertLess(pipeline.index('kci_markers'), pipeline.index('authtoken'), pipeline)
        with open(EXAMPLE, encoding='utf-8') as f:
            self.assertIn('cache = kci.cache', f.read())

    def test_the_example_filter_section_loads(self):
        wrapped = loadfilter('config:' + os.path.abspath(EXAMPLE), name='kci_markers')(None)
        self.assertEqual(wrapped.environ_key, 'kci.cache')
        self.assertEqual(wrapped.cache.prefix, 'kci')
        self.assertEqual(wrapped.cache.memcached_servers, ['10.2.0.11:11211', '10.2.0.12:11211'])


if __name__ == '__main__':
    unittest.main()
