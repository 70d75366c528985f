"""Real keystonemiddleware auth_token behind the kci_markers filter, validating against a stub Keystone.

The stub counts GET /v3/auth/tokens per token: a request answered without one was served from the
cache that the filter gave auth_token (its own memcached_servers point at a closed port, so nothing
else can have cached it).
"""

import datetime
import json
import logging
import secrets
import threading
import time
import unittest
import warnings
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import webob
from keystonemiddleware import auth_token

from kci_markers.filter import filter_factory
from kci_markers.protocol import marker_key

from tests.support import closed_port_server, now_ms, RealMemcachedTest, SERVERS

ADMIN_TOKEN = secrets.token_hex(16)


class StubKeystone(BaseHTTPRequestHandler):
    tokens = {}       # token id -> token body
    validations = {}  # token id -> how often GET /v3/auth/tokens was asked about it
    during = {}       # token id -> a callable run while that token is being validated

    def log_message(self, *args):
        pass

    def _json(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        base = 'http://%s:%d' % self.server.server_address
        if self.path.rstrip('/') in ('', '/v3'):
            version = {'id': 'v3.14', 'status': 'stable', 'updated': '2020-04-07T00:00:00Z',
                       'links': [{'rel': 'self', 'href': base + '/v3/'}],
                       'media-types': [{'base': 'application/json',
                                        'type': 'application/vnd.openstack.identity-v3+json'}]}
            body = {'versions': {'values': [version]}} if self.path in ('', '/') else {'version': version}
            return self._json(200, body)
        if self.path.startswith('/v3/auth/tokens') and self.headers.get('X-Auth-Token') == ADMIN_TOKEN:
            subject = self.headers.get('X-Subject-Token', '')
            self.validations[subject] = self.validations.get(subject, 0) + 1
            self.during.pop(subject, lambda: None)()
            body = self.tokens.get(subject)
            if body is None:
                return self._json(404, {'error': {'code': 404, 'title': 'Not Found'}})
            return self._json(200, {'token': body}, [('X-Subject-Token', subject)])
        self._json(401, {'error': {'code': 401, 'title': 'Unauthorized'}})


def token_body(user):
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp = '%Y-%m-%dT%H:%M:%S.000000Z'
    return {'methods': ['password'], 'is_domain': False,
            'user': {'id': user, 'name': 'u-' + user[:8], 'domain': {'id': 'default', 'name': 'Default'},
                     'password_expires_at': None},
            'project': {'id': 'p-' + user, 'name': 'p', 'domain': {'id': 'default', 'name': 'Default'}},
            'roles': [{'id': 'db01842edc1d4a1196f3e2a5d3f70641', 'name': 'member'}],
            'audit_ids': [secrets.token_urlsafe(16)],
            'issued_at': now.strftime(stamp),
            'expires_at': (now + datetime.timedelta(hours=1)).strftime(stamp)}


def service(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [environ.get('HTTP_X_USER_ID', '').encode()]


class AuthTokenThroughTheFilter(RealMemcachedTest):
    @classmethod
    def setUpClass(cls):
        cls.keystone = ThreadingHTTPServer(('127.0.0.1', 0), StubKeystone)
        threading.Thread(target=cls.keystone.serve_forever, daemon=True).start()
        cls.url = 'http://127.0.0.1:%d' % cls.keystone.server_address[1]
        # auth_token logs deprecations (admin_token) and warnings at WARNING, unconfigured: keep quiet.
        cls.log = logging.getLogger('keystonemiddleware')
        cls.log_level = cls.log.level
        cls.log.setLevel(logging.CRITICAL)

    @classmethod
    def tearDownClass(cls):
        cls.keystone.shutdown()
        cls.keystone.server_close()
        cls.log.setLevel(cls.log_level)

    def setUp(self):
        super(AuthTokenThroughTheFilter, self).setUp()
        warnings.simplefilter('ignore')  # inside the base class's catch_warnings: restored after

    def pipeline(self, strategy):
        conf = {'identity_uri': self.url, 'www_authenticate_uri': self.url, 'admin_token': ADMIN_TOKEN,
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
        token = secrets.token_urlsafe(48)
        StubKeystone.tokens[token] = token_body(user)
        return token

    def request(self, app, token):
        response = webob.Request.blank('/', headers={'X-Auth-Token': token}).get_response(app)
        return response.status_int, StubKeystone.validations.get(token, 0)

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
        self.marker('user', StubKeystone.tokens[a]['user']['id'])
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
        user = StubKeystone.tokens[token]['user']['id']
        StubKeystone.during[token] = lambda: self.marker('user', user)
        self.assertEqual(self.request(app, token), (200, 1))
        self.assertEqual(self.request(app, token), (200, 2))
        self.assertEqual(self.request(app, token), (200, 2))


if __name__ == '__main__':
    unittest.main()
