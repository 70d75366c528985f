"""kci_markers: readers of keystone-cache-invalidator's invalidation markers (docs/protocol.md, v1).

- kci_markers.filter: a paste filter that makes keystonemiddleware's auth_token honour markers;
- kci_markers.cache.MarkerAwareCache: the cache object that filter hands to auth_token;
- kci_markers.dogpile.MarkerInvalidationStrategy: the global marker for oslo.cache / dogpile regions;
- kci_markers.protocol and kci_markers.cached_token: the pure protocol functions.
"""

import logging

from kci_markers.cache import MarkerAwareCache
from kci_markers.cached_token import read_cached_token
from kci_markers.dogpile import MarkerInvalidationStrategy
from kci_markers.filter import filter_factory
from kci_markers.protocol import encode_id
from kci_markers.protocol import INVALID
from kci_markers.protocol import is_stale
from kci_markers.protocol import marker_key
from kci_markers.protocol import marker_keys
from kci_markers.protocol import parse_value
from kci_markers.protocol import PROTOCOL_VERSION
from kci_markers.protocol import token_subjects

# A library leaves output to the application's logging configuration (oslo.log in OpenStack services).
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    'INVALID',
    'MarkerAwareCache',
    'MarkerInvalidationStrategy',
    'PROTOCOL_VERSION',
    'encode_id',
    'filter_factory',
    'is_stale',
    'marker_key',
    'marker_keys',
    'parse_value',
    'read_cached_token',
    'token_subjects',
]
