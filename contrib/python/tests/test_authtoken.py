"""Real keystonemiddleware auth_token behind the kci_markers filter, validating against a stub Keystone.

The stub counts GET /v3/auth/tokens per token: a request answered without one was served from the
cache that the filter gave auth_token (its own memcached_servers point at a closed port, so nothing
else can have cached it).
"""

import logging
import secrets
import time
import unittest
import warnings

import webob
from keystonemiddleware import auth_token

from kci_markers.filter import filter_factory
from kci_markers.protocol import marker_key

from tests.stub_keystone import StubKeystone, token_body
from tests.support import closed_port_server, now_ms, RealMemcachedTest, SERVERS

def service(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [environ.get('HTTP_X_USER_ID', '').encode()]


class AuthTokenThroughTheFilter(RealMemcachedTest):
    @classmethod
    def setUpClass(cls):
        cls.keystone = StubKeystone()
        cls.url = cls.keystone.url
        # auth_token logs deprecations (admin_token) and warnings at WARNING, unconfigured: keep quiet.
        cls.log = logging.getLogger('keystonemiddleware')
        cls.log_level = cls.log.level
        cls.log.setLevel(logging.CRITICAL)

    @classmethod
    def tearDownClass(cls):
        cls.keystone.stop()
        cls.log.setLevel(cls.log_level)

    def setUp(self):
        super(AuthTokenThroughTheFilter, self).setUp()
        warnings.simplefilter('ignore')  # inside the base class's catch_warnings: restored after

    def pipeline(self, strategy):
        conf = {'identity_uri': self.url, 'www_authenticate_uri': self.url, 'admin_token': self.keystone.admin_token,
                'auth_version': 'v3', 'include_service_catalog': 'false', 'delay_auth_decision': 'false',
                'memcached_servers': closed_port_server(), 'token_cache_time': '300',
                'cache': 'kci.cache'}
        if strategy != 'None':
            conf.update(memcache_security_strategy=strategy, memcache_secret_key='kci-test-secret')
        wrap = filter_factory({}, memcached_servers=','.join(SERVERS), marker_prefix=self.prefix)
        app = wrap(auth_token.AuthProtocol(service, conf))
        self.closing(app.cache)
        self.track_entries(app.cache)
        return app

    def track_entries(self, cache):
        """Have the entries auth_token stores through `cache` deleted after the test."""
        store = cache.set

        def tracked_set(key, value, time=0, **kwargs):
            self.memcached.track_entry(key)
            return store(key, value, time=time, **kwargs)

        cache.set = tracked_set

    def issue(self, user):
        return self.keystone.issue(token_body(user))

    def request(self, app, token):
        response = webob.Request.blank('/', headers={'X-Auth-Token': token}).get_response(app)
        return response.status_int, self.keystone.validations.get(token, 0)

    def marker(self, kind, subject_id=None):
        """A marker at the current millisecond; returns once that millisecond has passed."""
        self.memcached.write_marker(marker_key(self.prefix, kind, subject_id), now_ms())
        time.sleep(0.003)  # a validation that begins within the marker's millisecond is stale too

    def check_strategy(self, strategy):
        app = self.pipeline(strategy)
        a, b = self.issue('user-a-' + secrets.token_hex(4)), self.issue('user-b-' + secrets.token_hex(4))
        for token in (a, b):
            self.assertEqual(self.request(app, token), (200, 1))
            self.assertEqual(self.request(app, token), (200, 1))
        self.marker('user', self.keystone.tokens[a]['user']['id'])
        if strategy == 'ENCRYPT':
            # The entry cannot be read without the token: subject markers cannot apply to it.
            self.assertEqual(self.request(app, a), (200, 1))
            self.marker('global')
            self.assertEqual(self.request(app, a), (200, 2))
            self.assertEqual(self.request(app, b), (200, 2))
        else:
            self.assertEqual(self.request(app, a), (200, 2))
            self.assertEqual(self.request(app, a), (200, 2))
            self.assertEqual(self.request(app, b), (200, 1))

    def test_strategy_none_honours_a_user_marker(self):
        self.check_strategy('None')

    def test_strategy_mac_honours_a_user_marker(self):
        self.check_strategy('MAC')

    def test_strategy_encrypt_honours_the_global_marker_only(self):
        self.check_strategy('ENCRYPT')

    def test_a_marker_written_while_keystone_validates_makes_the_result_stale(self):
        app = self.pipeline('None')
        token = self.issue('user-c-' + secrets.token_hex(4))
        user = self.keystone.tokens[token]['user']['id']
        self.keystone.during[token] = lambda: self.marker('user', user)
        self.assertEqual(self.request(app, token), (200, 1))
        self.assertEqual(self.request(app, token), (200, 2))
        self.assertEqual(self.request(app, token), (200, 2))


if __name__ == '__main__':
    unittest.main()
