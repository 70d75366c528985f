"""Publish Keystone-style notifications through the real oslo.messaging Notifier.

Usage: /usr/bin/python3 oslo_notify.py DRIVER TRANSPORT_URL EVENT_TYPE:RESOURCE_ID [...]

DRIVER is `messagingv2` (envelope v2) or `messaging` (v1, the bare dict). The exchange is `keystone`,
set the way Keystone sets it (set_transport_defaults(control_exchange='keystone')), and the topic is
`notifications`, so the routing key is `notifications.info` exactly as Keystone publishes.
"""
import sys

from oslo_config import cfg
import oslo_messaging


def main(argv):
    driver, url, events = argv[1], argv[2], argv[3:]
    oslo_messaging.set_transport_defaults(control_exchange='keystone')
    conf = cfg.ConfigOpts()
    conf([], project='kci-interop')
    transport = oslo_messaging.get_notification_transport(conf, url=url)
    notifier = oslo_messaging.Notifier(
        transport, publisher_id='identity.interop-test', driver=driver, topics=['notifications'])
    for event in events:
        event_type, resource_id = event.rsplit(':', 1)
        # Keystone passes an empty context and a basic payload of {"resource_info": id}.
        notifier.info({}, event_type, {'resource_info': resource_id})
    transport.cleanup()


if __name__ == '__main__':
    main(sys.argv)
