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
The stub Keystone (contrib/python/tests/stub_keystone.py) counts GET /v3/auth/tokens per token: a
request answered without one was served from cache.
"""
import json
import logging
import os
import sys
import time

import memcache
import webob
from keystonemiddleware import auth_token

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'contrib', 'python'))
from tests.stub_keystone import DEFAULT_ROLE, StubKeystone, token_body  # noqa: E402


def service(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [environ.get('HTTP_X_USER_ID', '').encode()]


def main(strategy, memcached_servers, marker_prefix=None):
    logging.basicConfig(level=logging.CRITICAL)
    keystone = StubKeystone()
    servers = memcached_servers.split(',')
    conf = {'identity_uri': keystone.url, 'www_authenticate_uri': keystone.url,
            'admin_token': keystone.admin_token, 'auth_version': 'v3', 'include_service_catalog': 'false',
            'delay_auth_decision': 'false', 'memcached_servers': memcached_servers, 'token_cache_time': '300'}
    if strategy != 'None':
        conf.update(memcache_security_strategy=strategy, memcache_secret_key='kci-test-secret')
    if marker_prefix:
        from kci_markers.filter import filter_factory
        conf['cache'] = 'kci.cache'
        app = filter_factory({}, memcached_servers=memcached_servers, marker_prefix=marker_prefix)(
            auth_token.AuthProtocol(service, conf))
    else:
        app = auth_token.AuthProtocol(service, conf)
    print(json.dumps({'ready': True, 'keystone': keystone.url}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd['op'] == 'issue':
            body = token_body(cmd['user'], cmd['project'], cmd.get('domain', 'default'), cmd.get('role', DEFAULT_ROLE))
            reply = {'token': keystone.issue(body)}
        elif cmd['op'] == 'request':
            resp = webob.Request.blank('/', headers={'X-Auth-Token': cmd['token']}).get_response(app)
            reply = {'status': resp.status_int, 'validations': keystone.validations.get(cmd['token'], 0)}
        elif cmd['op'] == 'mark_during_validation':
            keystone.during[cmd['token']] = lambda key=cmd['key']: write_marker_now(servers, key)
            reply = {}
        elif cmd['op'] == 'disable':
            keystone.disabled.add(cmd['user'])
            reply = {}
        else:
            reply = {'error': 'unknown op'}
        print(json.dumps(reply), flush=True)


def write_marker_now(servers, key):
    """The change lands while the validation request is in flight: a marker at this very moment."""
    now_ms = str(int(time.time() * 1000)).encode()  # bytes: flags 0, as the protocol says
    for server in servers:
        memcache.Client([server]).set(key, now_ms)


if __name__ == '__main__':
    main(*sys.argv[1:4])
