import { describe, expect, it } from 'vitest';
import { RecentIds } from '../../src/core/recent-ids.ts';

describe('RecentIds', () => {
  it('remembers the last N ids and forgets the oldest first', () => {
    const ids = new RecentIds(3);
    for (const id of ['a', 'b', 'c', 'd']) ids.add(id);
    expect(['a', 'b', 'c', 'd'].map((id) => ids.has(id))).toEqual([false, true, true, true]);
    ids.add('e');
    expect(ids.has('b')).toBe(false);
    expect(ids.size).toBe(3);
  });

  it('holds an id added twice once, in its first place', () => {
    const ids = new RecentIds(3);
    for (const id of ['a', 'b', 'a', 'c']) ids.add(id);
    expect(ids.size).toBe(3);
    ids.add('d');
    expect(['a', 'b', 'c', 'd'].map((id) => ids.has(id))).toEqual([false, true, true, true]);
  });

  it('holds a long id bounded, and still finds it', () => {
    const ids = new RecentIds(16);
    const long = 'x'.repeat(10_000);
    ids.add(long);
    expect(ids.has(long)).toBe(true);
    expect(ids.has(`${long}y`)).toBe(false);
  });

  it('keeps its window over many turns of the ring', () => {
    const ids = new RecentIds(100);
    for (let i = 0; i < 1_050; i++) ids.add(`id-${i}`);
    expect(ids.size).toBe(100);
    expect(ids.has('id-949')).toBe(false);
    expect(ids.has('id-950')).toBe(true);
    expect(ids.has('id-1049')).toBe(true);
  });

  it('remembers nothing with a window of 0 (deduplication off)', () => {
    const ids = new RecentIds(0);
    ids.add('a');
    expect(ids.has('a')).toBe(false);
    expect(ids.size).toBe(0);
  });
});
