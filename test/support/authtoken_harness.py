"""Real keystonemiddleware auth_token in front of a tiny WSGI app, validating against a stub Keystone.

Run with Debian's Python: /usr/bin/python3 authtoken_harness.py STRATEGY MEMCACHED_SERVERS [MARKER_PREFIX]
(STRATEGY is None, MAC or ENCRYPT; servers as in keystone_authtoken.memcached_servers). With a
MARKER_PREFIX the kci_markers paste filter (contrib/python) sits before auth_token, which is configured
with `cache = kci.cache`, so auth_token honours invalidation markers.
It reads one JSON command per line on stdin and answers one JSON line on stdout:
  {"op": "issue", "user": U, "project": P}  -> {"token": T}          (a token Keystone will validate)
  {"op": "request", "token": T}             -> {"status": 200|401, "validations": N}
  {"op": "disable", "user": U}              -> {}                    (Keystone now answers 404 for U)
  {"op": "mark_during_validation", "token": T, "key": K} -> {}      (the next validation of T writes
                                                                     marker K = now on every server)
"issue" also takes optional "domain" (the project's domain) and "role".
The stub counts GET /v3/auth/tokens per token: a request answered without one was served from cache.
"""
import datetime
import json
import logging
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import os

import memcache
import webob
from keystonemiddleware import auth_token

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'contrib', 'python'))

ADMIN_TOKEN = secrets.token_hex(16)
tokens = {}        # token id -> token body
validations = {}   # token id -> GET /v3/auth/tokens count
disabled = set()   # user ids Keystone no longer accepts
mark_during = {}   # token id -> marker key written while that token is being validated
servers = []


class StubKeystone(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _json(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        base = 'http://%s:%d' % self.server.server_address
        if self.path.rstrip('/') in ('', '/v3'):
            version = {'id': 'v3.14', 'status': 'stable', 'updated': '2020-04-07T00:00:00Z',
                       'links': [{'rel': 'self', 'href': base + '/v3/'}],
                       'media-types': [{'base': 'application/json',
                                        'type': 'application/vnd.openstack.identity-v3+json'}]}
            return self._json(200, {'versions': {'values': [version]}} if self.path in ('', '/')
                              else {'version': version})
        if self.path.startswith('/v3/auth/tokens'):
            if self.headers.get('X-Auth-Token') != ADMIN_TOKEN:
                return self._json(401, {'error': {'code': 401, 'title': 'Unauthorized'}})
            subject = self.headers.get('X-Subject-Token', '')
            validations[subject] = validations.get(subject, 0) + 1
            key = mark_during.pop(subject, None)
            if key:
                # The change lands while the validation request is in flight.
                now_ms = str(int(datetime.datetime.now().timestamp() * 1000))
                for server in servers:
                    memcache.Client([server]).set(key, now_ms.encode())  # bytes: flags 0
            body = tokens.get(subject)
            if body is None or body['user']['id'] in disabled:
                return self._json(404, {'error': {'code': 404, 'title': 'Not Found',
                                                  'message': 'Could not find token'}})
            return self._json(200, {'token': body}, {'X-Subject-Token': subject})
        self._json(404, {'error': {'code': 404, 'title': 'Not Found'}})


def token_body(user, project, domain='default', role='db01842edc1d4a1196f3e2a5d3f70641'):
    now = datetime.datetime.utcnow()
    stamp = lambda t: t.strftime('%Y-%m-%dT%H:%M:%S.000000Z')  # noqa
    return {'methods': ['password'], 'is_domain': False,
            'user': {'id': user, 'name': 'u-' + user[:8], 'domain': {'id': 'default', 'name': 'Default'},
                     'password_expires_at': None},
            'project': {'id': project, 'name': 'p-' + project[:8],
                        'domain': {'id': domain, 'name': domain}},
            'roles': [{'id': role, 'name': 'member'}],
            'audit_ids': [secrets.token_urlsafe(16)],
            'issued_at': stamp(now), 'expires_at': stamp(now + datetime.timedelta(hours=1))}


def service(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [environ.get('HTTP_X_USER_ID', '').encode()]


def main(strategy, memcached_servers, marker_prefix=None):
    logging.basicConfig(level=logging.CRITICAL)
    stub = ThreadingHTTPServer(('127.0.0.1', 0), StubKeystone)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    url = 'http://127.0.0.1:%d' % stub.server_address[1]
    conf = {'identity_uri': url, 'www_authenticate_uri': url, 'admin_token': ADMIN_TOKEN,
            'auth_version': 'v3', 'include_service_catalog': 'false', 'delay_auth_decision': 'false',
            'memcached_servers': memcached_servers, 'token_cache_time': '300'}
    servers.extend(memcached_servers.split(','))
    if strategy != 'None':
        conf.update(memcache_security_strategy=strategy, memcache_secret_key='kci-test-secret')
    if marker_prefix:
        from kci_markers.filter import filter_factory
        conf['cache'] = 'kci.cache'
        app = filter_factory({}, memcached_servers=memcached_servers, marker_prefix=marker_prefix)(
            auth_token.AuthProtocol(service, conf))
    else:
        app = auth_token.AuthProtocol(service, conf)
    print(json.dumps({'ready': True, 'keystone': url}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd['op'] == 'issue':
            token = secrets.token_urlsafe(48)
            tokens[token] = token_body(cmd['user'], cmd['project'], cmd.get('domain', 'default'),
                                       cmd.get('role', 'db01842edc1d4a1196f3e2a5d3f70641'))
            reply = {'token': token}
        elif cmd['op'] == 'request':
            resp = webob.Request.blank('/', headers={'X-Auth-Token': cmd['token']}).get_response(app)
            reply = {'status': resp.status_int, 'validations': validations.get(cmd['token'], 0)}
        elif cmd['op'] == 'mark_during_validation':
            mark_during[cmd['token']] = cmd['key']
            reply = {}
        elif cmd['op'] == 'disable':
            disabled.add(cmd['user'])
            reply = {}
        else:
            reply = {'error': 'unknown op'}
        print(json.dumps(reply), flush=True)


if __name__ == '__main__':
    main(*sys.argv[1:4])
