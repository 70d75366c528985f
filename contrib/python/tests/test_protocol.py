"""Protocol functions beyond the vectors: the TypeScript order of subjects, edge values, prefixes."""

import json
import os
import unittest

from kci_markers import protocol

from tests.support import MIDDLEWARE_FIXTURES


def fixture_token():
    with open(os.path.join(MIDDLEWARE_FIXTURES, 'auth_token--strategy-None.json'), encoding='utf-8') as f:
        return json.load(f)['1_value']['value_json']['token']


class TokenSubjects(unittest.TestCase):
    def test_names_the_subjects_of_a_real_token_in_the_typescript_order(self):
        self.assertEqual(protocol.token_subjects(fixture_token()), [
            ('user', '76d2a5a68299459482f97f2b9f374faa'),
            ('domain', 'default'),
            ('project', 'c3491cac1f4640b4b7de0aa38ffc53f0'),
            ('domain', 'default'),
            ('role', 'db01842edc1d4a1196f3e2a5d3f70641'),
            ('role', 'a9db5abbfa454be499f06008d82051c8'),
            ('audit', '3mG1cm5pQ8m_RWXeB2ijoA'),
            ('audit-chain', '3mG1cm5pQ8m_RWXeB2ijoA'),
        ])

    def test_the_audit_chain_of_a_rescoped_token_is_its_last_audit_id(self):
        subjects = protocol.token_subjects({'audit_ids': ['own', 'chain']})
        self.assertIn(('audit-chain', 'chain'), subjects)
        self.assertNotIn(('audit-chain', 'own'), subjects)

    def test_skips_ids_that_are_not_non_empty_strings_and_fields_of_the_wrong_shape(self):
        token = {'user': {'id': '', 'domain': ['x']}, 'project': 'p', 'roles': {'id': 'r'},
                 'OS-TRUST:trust': {'id': 7, 'trustor_user': {'id': None}}, 'audit_ids': 'a'}
        self.assertEqual(protocol.token_subjects(token), [])
        self.assertEqual(protocol.token_subjects(None), [])
        self.assertEqual(protocol.marker_keys({}, 'p'), ['p:v1:global'])

    def test_marker_keys_name_a_shared_domain_once(self):
        keys = protocol.marker_keys(fixture_token(), 'kci')
        self.assertEqual(keys.count('kci:v1:domain:default'), 1)


class Values(unittest.TestCase):
    def test_a_trailing_newline_is_not_a_marker(self):
        self.assertIs(protocol.parse_value('12\n'), protocol.INVALID)
        self.assertIs(protocol.parse_value(b'12\n'), protocol.INVALID)

    def test_unicode_digits_are_not_a_marker(self):
        self.assertIs(protocol.parse_value('\u0661\u0662'), protocol.INVALID)

    def test_objects_other_than_text_are_not_a_marker(self):
        self.assertIs(protocol.parse_value(12), protocol.INVALID)
        self.assertIsNone(protocol.parse_value(None))

    def test_an_absent_marker_in_the_values_does_not_count(self):
        self.assertFalse(protocol.is_stale(1, {'kci:v1:global': None}))


class Keys(unittest.TestCase):
    def test_any_id_gives_a_key_memcached_accepts(self):
        key = protocol.marker_key('a' * 32, 'audit-chain', 'x y\u00e9' * 10000)
        self.assertLessEqual(len(key.encode('utf-8')), 250)
        self.assertRegex(key, r'^[\x21-\x7e]+$')

    def test_the_prefix_is_checked(self):
        self.assertEqual(protocol.check_prefix('region-2.cache'), 'region-2.cache')
        for bad in ('', 'a' * 33, 'a:b', 'a b', None):
            with self.subTest(prefix=bad):
                self.assertRaises(ValueError, protocol.check_prefix, bad)

    def test_a_subject_marker_needs_an_id(self):
        self.assertRaises(ValueError, protocol.marker_key, 'kci', 'user')


if __name__ == '__main__':
    unittest.main()
