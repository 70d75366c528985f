import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeMarkerValue, isStale, markerKey, readMarkerValue } from '../../src/core/marker.ts';
import { GLOBAL, type TargetKind, target } from '../../src/core/targets.ts';
import { markerKeysForToken } from '../../src/reader/marker-keys.ts';
import { REPO_ROOT } from '../support/paths.ts';

// The same file is run by contrib/python/tests: writer and readers in any language must agree on it.
interface Vectors {
  keys: { cases: Array<{ prefix: string; kind: string; id: string | null; key: string }> };
  values: { cases: Array<{ value: string; millis: number | 'invalid' }> };
  tokens: { cases: Array<{ name: string; token: Record<string, unknown>; keys: string[] }> };
  decisions: {
    cases: Array<{ name: string; cachedAt: number; markers: Record<string, string>; stale: boolean }>;
  };
}

const vectors: Vectors = JSON.parse(
  readFileSync(join(REPO_ROOT, 'test/vectors/marker-protocol-v1.json'), 'utf8'),
);

describe('marker protocol v1 conformance vectors', () => {
  it.each(vectors.keys.cases.map((c) => [c.key, c] as const))('key %s', (_key, c) => {
    const t = c.kind === 'global' ? GLOBAL : target(c.kind as TargetKind, c.id ?? '');
    expect(markerKey(c.prefix, t)).toBe(c.key);
  });

  it.each(vectors.values.cases.map((c) => [JSON.stringify(c.value), c] as const))('value %s', (_v, c) => {
    expect(decodeMarkerValue(c.value) ?? 'invalid').toBe(c.millis);
  });

  it.each(vectors.tokens.cases.map((c) => [c.name, c] as const))('token: %s', (_name, c) => {
    expect(new Set(markerKeysForToken(c.token, 'kci'))).toEqual(new Set(c.keys));
  });

  it.each(vectors.decisions.cases.map((c) => [c.name, c] as const))('decision: %s', (_name, c) => {
    const markers = Object.values(c.markers).map(readMarkerValue);
    expect(isStale(c.cachedAt, markers)).toBe(c.stale);
  });
});
