import { describe, expect, it } from 'vitest';
import { OldestFirst } from '../../src/core/oldest-first.ts';

/** Takes and deletes `n` entries, returning their keys. */
function evict(map: Map<string, number>, oldest: OldestFirst<string, number>, n: number): string[] {
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const taken = oldest.take();
    if (taken === undefined) break;
    map.delete(taken[0]);
    keys.push(taken[0]);
  }
  return keys;
}

describe('OldestFirst', () => {
  it('takes entries in insertion order, including those added between takes', () => {
    const map = new Map([
      ['a', 1],
      ['b', 2],
    ]);
    const oldest = new OldestFirst(map);
    expect(evict(map, oldest, 1)).toEqual(['a']);
    map.set('c', 3);
    expect(evict(map, oldest, 5)).toEqual(['b', 'c']);
    expect(oldest.take()).toBeUndefined();
  });

  it('reaches an entry set again (moved last) in its new turn', () => {
    const map = new Map([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    const oldest = new OldestFirst(map);
    map.delete('a');
    map.set('a', 4);
    expect(evict(map, oldest, 3)).toEqual(['b', 'c', 'a']);
  });

  it('starts again once it has been through every entry', () => {
    const map = new Map([['a', 1]]);
    const oldest = new OldestFirst(map);
    expect(evict(map, oldest, 1)).toEqual(['a']);
    expect(oldest.take()).toBeUndefined();
    map.set('b', 2);
    map.set('c', 3);
    expect(evict(map, oldest, 1)).toEqual(['b']);
  });

  it('passes over an entry taken and kept, until the next pass', () => {
    const map = new Map([
      ['keep', 0],
      ['a', 1],
    ]);
    const oldest = new OldestFirst(map);
    expect(oldest.take()?.[0]).toBe('keep');
    expect(evict(map, oldest, 1)).toEqual(['a']);
    map.set('b', 2);
    expect(oldest.take()?.[0]).toBe('b');
    expect(oldest.take()?.[0]).toBe('keep');
  });

  it('keeps the order across the map growing and being compacted', () => {
    const map = new Map<string, number>();
    const oldest = new OldestFirst(map);
    const evicted: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      map.set(`k${i}`, i);
      if (map.size > 100) evicted.push(...evict(map, oldest, 1));
    }
    expect(evicted).toEqual(Array.from({ length: 9_900 }, (_, i) => `k${i}`));
    expect([...map.keys()][0]).toBe('k9900');
  });
});
