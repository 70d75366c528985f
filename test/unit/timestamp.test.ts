import { describe, expect, it } from 'vitest';
import { parseOsloTimestamp } from '../../src/core/timestamp.ts';

describe('oslo timestamps', () => {
  it.each([
    ['2026-11-22 05:42:18.050543', Date.UTC(2026, 10, 22, 5, 42, 18, 50)],
    ['2026-11-22 05:42:18.9', Date.UTC(2026, 10, 22, 5, 42, 18, 900)],
    ['2026-11-22 05:42:18', Date.UTC(2026, 10, 22, 5, 42, 18)],
    ['2024-02-29 00:00:00', Date.UTC(2024, 1, 29)],
  ])('reads %s as UTC', (text, ms) => {
    expect(parseOsloTimestamp(text)).toBe(ms);
  });

  it.each([
    '2026-11-22T05:42:18.050543',
    '2026-11-22 05:42:18+00:00',
    '2026-02-31 00:00:00',
    '2026-11-22 05:42',
    '',
  ])('rejects %j', (text) => {
    expect(parseOsloTimestamp(text)).toBeNull();
  });
});
