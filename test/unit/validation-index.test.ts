import { describe, expect, it } from 'vitest';
import { ValidationIndex } from '../../src/core/validation-index.ts';

const NEVER = Number.POSITIVE_INFINITY;
const targets = (...names: string[]) => new Set(names);

describe('the index of cached validations', () => {
  it('finds the entries that carry a target, and nothing else', () => {
    const i = new ValidationIndex();
    i.put('tokens/a', ['u1', 'p1', 'member'], NEVER, 0);
    i.put('tokens/b', ['u2', 'p1', 'member'], NEVER, 0);
    i.put('tokens/c', ['u1', 'p2', 'x'], NEVER, 0);
    expect(i.matching(targets('u1'), 0).matched.sort()).toEqual(['tokens/a', 'tokens/c']);
    expect(i.matching(targets('p1'), 0).matched.sort()).toEqual(['tokens/a', 'tokens/b']);
    expect(i.matching(targets('x', 'u2'), 0).matched.sort()).toEqual(['tokens/b', 'tokens/c']);
    expect(i.matching(targets('nobody'), 0).matched).toEqual([]);
    expect(i.subjects).toBe(6); // each held once, however many entries carry it
  });

  it('a global purge matches every readable entry; unreadable ones are handed out on every purge', () => {
    const i = new ValidationIndex();
    i.put('tokens/a', ['u1'], NEVER, 0);
    i.put('tokens/enc', null, NEVER, 0);
    expect(i.matching(targets(), 0, true)).toMatchObject({
      matched: ['tokens/a'],
      unreadable: ['tokens/enc'],
    });
    expect(i.matching(targets('zz'), 0)).toMatchObject({ matched: [], unreadable: ['tokens/enc'] });
  });

  it('a key stored again replaces what it carried; a removed key and its lone subjects go', () => {
    const i = new ValidationIndex();
    i.put('tokens/a', ['u1'], NEVER, 0);
    i.put('tokens/a', ['u2'], NEVER, 0);
    expect(i.matching(targets('u1'), 0).matched).toEqual([]);
    expect(i.matching(targets('u2'), 0).matched).toEqual(['tokens/a']);
    i.remove('tokens/a');
    expect(i.size).toBe(0);
    expect(i.subjects).toBe(0);
  });

  it('what a purge deleted leaves the index, but for a key stored again since the answer', () => {
    const i = new ValidationIndex();
    i.put('tokens/a', ['u1'], NEVER, 0);
    i.put('tokens/b', ['u1'], NEVER, 0);
    const answer = i.matching(targets('u1'), 0);
    // While the purge deletes, auth_token caches tokens/b again (and the index reads it).
    i.put('tokens/b', ['u1'], NEVER, 0);
    i.removeIfNotStoredSince(answer.matched, answer.asOf);
    expect(i.has('tokens/a')).toBe(false);
    expect(i.matching(targets('u1'), 0).matched).toEqual(['tokens/b']);
  });

  it('an expired entry is never handed out and is dropped', () => {
    const i = new ValidationIndex();
    i.put('tokens/old', ['u1'], 1_000, 0);
    i.put('tokens/new', ['u1'], 5_000, 0);
    expect(i.matching(targets('u1'), 2_000).matched).toEqual(['tokens/new']);
    expect(i.size).toBe(1);
    expect(i.removeExpired(6_000)).toBe(1);
  });

  it('after a listing, entries neither listed nor stored since it began are gone', () => {
    const i = new ValidationIndex();
    i.put('tokens/listed', ['u1'], NEVER, 1);
    i.put('tokens/gone', ['u1'], NEVER, 1);
    i.put('tokens/stored-during', ['u1'], NEVER, 2);
    expect(i.touch('tokens/listed', 2)).toBe(true);
    expect(i.touch('tokens/unknown', 2)).toBe(false);
    expect(i.removeUnseenSince(2)).toBe(1);
    expect(i.has('tokens/gone')).toBe(false);
    expect(i.size).toBe(2);
  });
});
