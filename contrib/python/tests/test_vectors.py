"""The conformance vectors of marker protocol v1, shared with the TypeScript tests."""

import json
import unittest

from kci_markers import protocol

from tests.support import VECTORS


def load_vectors():
    with open(VECTORS, encoding='utf-8') as f:
        return json.load(f)


class ConformanceVectors(unittest.TestCase):
    vectors = load_vectors()

    def test_every_section_has_cases(self):
        for section in ('keys', 'values', 'tokens', 'decisions'):
            self.assertTrue(self.vectors[section]['cases'], section)

    def test_keys(self):
        for case in self.vectors['keys']['cases']:
            with self.subTest(key=case['key']):
                self.assertEqual(protocol.marker_key(case['prefix'], case['kind'], case['id']), case['key'])

    def test_values(self):
        for case in self.vectors['values']['cases']:
            expected = protocol.INVALID if case['millis'] == 'invalid' else case['millis']
            with self.subTest(value=case['value']):
                self.assertIs(protocol.parse_value(case['value']) is protocol.INVALID,
                              expected is protocol.INVALID)
                self.assertEqual(protocol.parse_value(case['value']), expected)
                # The same data as memcached hands it over (bytes).
                self.assertEqual(protocol.parse_value(case['value'].encode('utf-8')), expected)

    def test_tokens(self):
        for case in self.vectors['tokens']['cases']:
            with self.subTest(token=case['name']):
                keys = protocol.marker_keys(case['token'], 'kci')
                self.assertEqual(set(keys), set(case['keys']))
                self.assertEqual(len(keys), len(set(keys)), 'duplicates in %r' % keys)
                self.assertEqual(keys[0], 'kci:v1:global')

    def test_decisions(self):
        for case in self.vectors['decisions']['cases']:
            with self.subTest(decision=case['name']):
                self.assertIs(protocol.is_stale(case['cachedAt'], case['markers']), case['stale'])
                as_bytes = {k: v.encode('ascii') for k, v in case['markers'].items()}
                self.assertIs(protocol.is_stale(case['cachedAt'], as_bytes), case['stale'])


if __name__ == '__main__':
    unittest.main()
