import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeMarkerValue,
  encodeId,
  encodeMarkerValue,
  isStale,
  isTooFarAhead,
  markerKey,
  markerTime,
} from '../../src/core/marker.ts';
import { GLOBAL, target } from '../../src/core/targets.ts';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

describe('marker keys (protocol v1)', () => {
  it('names the global marker', () => {
    expect(markerKey('kci', GLOBAL)).toBe('kci:v1:global');
  });

  it('keeps a Keystone hex id verbatim', () => {
    expect(markerKey('kci', target('user', 'd72c2397db9f5bd195ef4fa9cf367fa8'))).toBe(
      'kci:v1:user:d72c2397db9f5bd195ef4fa9cf367fa8',
    );
  });

  it.each([
    ['an id with a space', 'Default Domain'],
    ['a unicode id', 'utilisateur-é'],
    ['an id with a colon', 'a:b'],
    ['a 129-character id', 'a'.repeat(129)],
    ['an empty id', ''],
  ])('hashes %s as ~ + lowercase SHA-256 of its UTF-8', (_what, id) => {
    expect(encodeId(id)).toBe(`~${sha256(id)}`);
  });

  it('keeps 128 characters of the safe alphabet verbatim', () => {
    const id = `A-z.0_${'9'.repeat(122)}`;
    expect(encodeId(id)).toBe(id);
  });

  it('produces keys memcached accepts for any id', () => {
    const key = markerKey('a'.repeat(32), target('audit-chain', 'x'.repeat(10_000)));
    expect(key.length).toBeLessThanOrEqual(250);
    expect(key).toMatch(/^[\x21-\x7e]+$/);
  });
});

describe('marker values', () => {
  it('is decimal epoch milliseconds', () => {
    expect(encodeMarkerValue(1_795_000_000_123.9)).toBe('1795000000123');
    expect(decodeMarkerValue('1795000000123')).toBe(1_795_000_000_123);
  });

  it.each(['', '-1', '1.5', ' 12', 'abc', '1'.repeat(17)])('does not read %j as a marker', (v) => {
    expect(decodeMarkerValue(v)).toBeNull();
  });

  it('reads every value up to 2^53 − 1 exactly, and none beyond (no float rounding)', () => {
    expect(decodeMarkerValue('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    for (const v of ['9007199254740992', '9007199254740993', '9999999999999999']) {
      expect(decodeMarkerValue(v)).toBeNull();
    }
  });

  it('a marker more than the skew margin and five minutes ahead of the clock is too far ahead to spread', () => {
    const now = 1_795_000_000_000;
    expect(isTooFarAhead(now + 2_000 + 300_000, now, 2_000)).toBe(false);
    expect(isTooFarAhead(now + 2_000 + 300_001, now, 2_000)).toBe(true);
  });

  it('adds the clock-skew margin to the writer clock', () => {
    expect(markerTime(1000, 2000)).toBe(3000);
  });
});

describe('reader rule', () => {
  it('a validation cached at or before a marker is stale', () => {
    expect(isStale(1000, [null, 1000])).toBe(true);
    expect(isStale(999, [1000])).toBe(true);
  });

  it('a validation cached after every marker is fresh', () => {
    expect(isStale(1001, [1000, null, 500])).toBe(false);
    expect(isStale(1001, [])).toBe(false);
  });
});
