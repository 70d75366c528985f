"""The approach the daemon replaces, as issue 17 measured it: an oslo.messaging notification listener
(a pool queue, the threading executor) that writes an invalidation marker per notification with
python-memcached to every server. Timed the way the daemon is: the bench starts this process with the
backlog waiting and reads when the last notification was handled.

usage: /usr/bin/python3 oslo-listener.py URL EXCHANGE POOL COUNT SERVER [SERVER ...]

Prints {"lastAt": epoch ms} as JSON once COUNT notifications were handled, then exits. Debian's
python3-oslo.messaging and python3-memcache (scripts/local-services.sh --with-python-peers).
"""
import json
import sys
import threading
import time

import memcache
import oslo_messaging as messaging
from oslo_config import cfg

TTL_SECONDS = 3600


class MarkerWriter:
    """The endpoint: a marker (milliseconds, as the daemon writes them) for the event's user."""

    def __init__(self, servers, count):
        # python-memcached's Client is thread-local: one connection per executor thread and server.
        self.clients = [memcache.Client([server]) for server in servers]
        self.count = count
        self.handled = 0
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.last_at = 0.0

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        key = 'kci:v1:user:%s' % payload.get('resource_info')
        value = str(int(time.time() * 1000))
        for client in self.clients:
            client.set(key, value, time=TTL_SECONDS)
        with self.lock:
            self.handled += 1
            if self.handled == self.count:
                self.last_at = time.time() * 1000
                self.done.set()
        return messaging.NotificationResult.HANDLED


def main():
    url, exchange, pool, count = sys.argv[1:5]
    servers = sys.argv[5:]
    conf = cfg.ConfigOpts()
    conf([], project='kci-bench')
    transport = messaging.get_notification_transport(conf, url=url)
    endpoint = MarkerWriter(servers, int(count))
    targets = [messaging.Target(exchange=exchange, topic='notifications')]
    listener = messaging.get_notification_listener(
        transport, targets, [endpoint], executor='threading', pool=pool)
    listener.start()
    endpoint.done.wait()
    print(json.dumps({'lastAt': endpoint.last_at}), flush=True)
    listener.stop()
    listener.wait()
    transport.cleanup()


if __name__ == '__main__':
    main()
