"""A stub Keystone for tests that run real keystonemiddleware auth_token: version discovery and
GET /v3/auth/tokens, counting validations per token. Shared by the package's tests and the project's
auth_token harness (test/support/authtoken_harness.py).
"""

import datetime
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

DEFAULT_ROLE = 'db01842edc1d4a1196f3e2a5d3f70641'


class StubKeystone(object):
    """Serves on a free local port until stop(). auth_token authenticates with `admin_token`."""

    def __init__(self):
        self.admin_token = secrets.token_hex(16)
        self.tokens = {}        # token id -> token body
        self.validations = {}   # token id -> how often GET /v3/auth/tokens was asked about it
        self.during = {}        # token id -> a callable run (once) while that token is being validated
        self.disabled = set()   # user ids Keystone no longer accepts
        self._server = ThreadingHTTPServer(('127.0.0.1', 0), _handler(self))
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = 'http://127.0.0.1:%d' % self._server.server_address[1]

    def issue(self, body):
        token = secrets.token_urlsafe(48)
        self.tokens[token] = body
        return token

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


def token_body(user, project=None, domain='default', role=DEFAULT_ROLE):
    """A v3 token body valid for an hour, as GET /v3/auth/tokens returns it under `token`."""
    project = project or 'p-' + user
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp = '%Y-%m-%dT%H:%M:%S.000000Z'
    return {'methods': ['password'], 'is_domain': False,
            'user': {'id': user, 'name': 'u-' + user[:8], 'domain': {'id': 'default', 'name': 'Default'},
                     'password_expires_at': None},
            'project': {'id': project, 'name': 'p-' + project[:8], 'domain': {'id': domain, 'name': domain}},
            'roles': [{'id': role, 'name': 'member'}],
            'audit_ids': [secrets.token_urlsafe(16)],
            'issued_at': now.strftime(stamp),
            'expires_at': (now + datetime.timedelta(hours=1)).strftime(stamp)}


def _handler(keystone):
    class Handler(BaseHTTPRequestHandler):
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
            if self.path.rstrip('/') in ('', '/v3'):
                version = {'id': 'v3.14', 'status': 'stable', 'updated': '2020-04-07T00:00:00Z',
                           'links': [{'rel': 'self', 'href': keystone.url + '/v3/'}],
                           'media-types': [{'base': 'application/json',
                                            'type': 'application/vnd.openstack.identity-v3+json'}]}
                discovery = {'versions': {'values': [version]}} if self.path in ('', '/') else {'version': version}
                return self._json(200, discovery)
            if self.path.startswith('/v3/auth/tokens') and self.headers.get('X-Auth-Token') == keystone.admin_token:
                subject = self.headers.get('X-Subject-Token', '')
                keystone.validations[subject] = keystone.validations.get(subject, 0) + 1
                keystone.during.pop(subject, lambda: None)()
                body = keystone.tokens.get(subject)
                if body is None or body['user']['id'] in keystone.disabled:
                    return self._json(404, {'error': {'code': 404, 'title': 'Not Found',
                                                      'message': 'Could not find token'}})
                return self._json(200, {'token': body}, [('X-Subject-Token', subject)])
            self._json(401, {'error': {'code': 401, 'title': 'Unauthorized'}})

    return Handler
