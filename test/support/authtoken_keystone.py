"""Real keystonemiddleware auth_token in front of a tiny WSGI app, validating against a real Keystone.

Run with Debian's Python: /usr/bin/python3 authtoken_keystone.py KEYSTONE_URL ADMIN_PASSWORD MEMCACHED_SERVERS
(KEYSTONE_URL ends in /v3; the admin serves as auth_token's service user; servers as in
keystone_authtoken.memcached_servers). It reads one JSON command per line on stdin and answers one JSON
line on stdout:
  {"op": "request", "token": T}  -> {"status": 200|401}
A token validated once is cached in memcached for token_cache_time (300 s) under tokens/<sha256(T)>
(memcache_security_strategy None).
"""
import json
import logging
import sys

import webob
from keystonemiddleware import auth_token


def service(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [environ.get('HTTP_X_USER_ID', '').encode()]


def main(keystone_url, admin_password, memcached_servers):
    logging.basicConfig(level=logging.CRITICAL)
    conf = {
        'auth_type': 'password', 'auth_url': keystone_url, 'username': 'admin', 'password': admin_password,
        'project_name': 'admin', 'user_domain_name': 'Default', 'project_domain_name': 'Default',
        'www_authenticate_uri': keystone_url, 'delay_auth_decision': 'false', 'include_service_catalog': 'false',
        'memcached_servers': memcached_servers, 'token_cache_time': '300',
        # bootstrap registers the public and admin endpoints only.
        'interface': 'public',
    }
    app = auth_token.AuthProtocol(service, conf)
    print(json.dumps({'ready': True}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd['op'] == 'request':
            resp = webob.Request.blank('/', headers={'X-Auth-Token': cmd['token']}).get_response(app)
            reply = {'status': resp.status_int}
        else:
            reply = {'error': 'unknown op'}
        print(json.dumps(reply), flush=True)


if __name__ == '__main__':
    main(*sys.argv[1:4])
