"""The paste filter that hands auth_token a MarkerAwareCache through the WSGI environment.

In api-paste.ini, before authtoken::

    [filter:kci_markers]
    paste.filter_factory = kci_markers.filter:filter_factory
    memcached_servers = 10.2.0.11:11211,10.2.0.12:11211
    marker_prefix = kci

and auth_token configured with ``cache = kci.cache`` ([keystone_authtoken] or its paste section).

Options: memcached_servers (comma-separated, required), marker_prefix (default kci), marker_servers
(comma-separated, default memcached_servers), environ_key (default kci.cache), socket_timeout
(seconds, default 1.0) and dead_retry (seconds a server that failed is skipped, default 10).
"""

import threading

from kci_markers import _memcached
from kci_markers.cache import MarkerAwareCache

DEFAULT_ENVIRON_KEY = 'kci.cache'

_caches = {}
_caches_lock = threading.Lock()


def filter_factory(global_conf, **local_conf):
    """paste.filter_factory: returns the factory that wraps the next app of the pipeline."""
    conf = local_conf  # options of the [filter:...] section only, not the [DEFAULT] ones
    cache = shared_cache(
        memcached_servers=conf.get('memcached_servers'),
        prefix=conf.get('marker_prefix') or 'kci',
        marker_servers=conf.get('marker_servers') or None,
        socket_timeout=float(conf.get('socket_timeout') or _memcached.DEFAULT_SOCKET_TIMEOUT),
        dead_retry=int(conf.get('dead_retry') or _memcached.DEFAULT_DEAD_RETRY),
    )
    environ_key = conf.get('environ_key') or DEFAULT_ENVIRON_KEY

    def factory(app):
        return MarkerCacheFilter(app, cache, environ_key)

    return factory


def shared_cache(memcached_servers, prefix='kci', marker_servers=None, **options):
    """The process's MarkerAwareCache for this configuration, built on first use.

    auth_token keeps the cache object of its first request for good, so the object must outlive every
    request; pipelines of the same process that name the same servers and prefix share one.
    """
    cache = MarkerAwareCache(memcached_servers, prefix=prefix, marker_servers=marker_servers, **options)
    identity = (tuple(cache.memcached_servers), cache.prefix, tuple(cache.markers.servers),
                tuple(sorted(options.items())))
    with _caches_lock:
        return _caches.setdefault(identity, cache)


class MarkerCacheFilter(object):
    """Puts the one long-lived cache into every request's environment, then calls the next app."""

    def __init__(self, app, cache, environ_key=DEFAULT_ENVIRON_KEY):
        self.app = app
        self.cache = cache
        self.environ_key = environ_key

    def __call__(self, environ, start_response):
        environ[self.environ_key] = self.cache
        return self.app(environ, start_response)
