"""Reading keystonemiddleware's cached validations, built from what real auth_token 10.1.0 cached."""

import base64
import json
import os
import secrets
import unittest
import zlib

from kci_markers.cached_token import read_cached_token

from tests.support import MIDDLEWARE_FIXTURES


def fixture(strategy):
    path = os.path.join(MIDDLEWARE_FIXTURES, 'auth_token--strategy-%s.json' % strategy)
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def cached_value(strategy):
    """A value in the fixture's format (None: JSON; MAC: 64-char MAC + base64 JSON; ENCRYPT: unreadable)."""
    value = fixture(strategy)['1_value']
    if strategy == 'None':
        return json.dumps(value['value_json']).encode('utf-8')
    if strategy == 'MAC':
        data = json.dumps(value['value_json_after_base64']).encode('utf-8')
        return value['value_prefix_64'].encode('ascii') + base64.b64encode(data)
    # ENCRYPT: MAC + base64(iv + ciphertext), as long as the real one.
    return value['value_prefix_64'].encode('ascii') + base64.b64encode(
        secrets.token_bytes(16 + value['ciphertext_bytes']))


class ReadCachedToken(unittest.TestCase):
    def test_reads_the_token_of_strategy_none(self):
        token = read_cached_token(cached_value('None'))
        self.assertEqual(token, fixture('None')['1_value']['value_json']['token'])
        self.assertEqual(token['user']['id'], fixture('None')['user_id'])

    def test_reads_the_token_of_strategy_mac(self):
        token = read_cached_token(cached_value('MAC'))
        self.assertEqual(token, fixture('MAC')['1_value']['value_json_after_base64']['token'])
        self.assertEqual(token['user']['id'], fixture('MAC')['user_id'])

    def test_reads_a_value_given_as_text(self):
        self.assertEqual(read_cached_token(cached_value('MAC').decode('ascii'))['user']['id'],
                         fixture('MAC')['user_id'])

    def test_cannot_read_strategy_encrypt(self):
        for _ in range(20):
            self.assertIsNone(read_cached_token(cached_value('ENCRYPT')))

    def test_reads_the_legacy_data_expires_form(self):
        token = fixture('None')['1_value']['value_json']['token']
        self.assertEqual(read_cached_token(json.dumps([{'token': token}, 1795327152]).encode()), token)

    def test_reads_a_value_python_binary_memcached_compressed(self):
        compressed = zlib.compress(cached_value('MAC'))
        self.assertEqual(read_cached_token(compressed, 8 | 16)['user']['id'], fixture('MAC')['user_id'])
        self.assertIsNone(read_cached_token(compressed, 0))
        self.assertIsNone(read_cached_token(b'not zlib', 8))

    def test_returns_none_for_what_is_no_cached_token(self):
        for value in (b'garbage', b'{"not": "a token"}', b'{', b'', b'[]', b'{"token": []}', b'\xff' * 80,
                      None, b'x' * 64 + b'!!!!'):
            with self.subTest(value=value):
                self.assertIsNone(read_cached_token(value))


if __name__ == '__main__':
    unittest.main()
