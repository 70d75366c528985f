import { describe, expect, it } from 'vitest';
import { ServerBacklog } from '../../src/actions/server-backlog.ts';
import { LiveMarkers } from '../../src/core/live-markers.ts';

describe('LiveMarkers: what a server that lost markers is given again', () => {
  it('keeps the newest value and the latest expiry of each key', () => {
    const live = new LiveMarkers(10, 'g');
    live.record('u', 100, 1_000);
    live.record('u', 50, 2_000);
    live.record('p', 70, 500);
    expect(live.live(0)).toEqual([
      { key: 'u', valueMs: 100, expiresAtMs: 2_000 },
      { key: 'p', valueMs: 70, expiresAtMs: 500 },
    ]);
  });

  it('says whether a key was remembered already (the writer then expects it on the servers)', () => {
    const live = new LiveMarkers(2, 'g');
    expect(live.record('u', 1, 100)).toBe(false);
    expect(live.record('u', 2, 100)).toBe(true);
    live.record('p', 1, 100);
    live.record('d', 1, 100); // the limit folds u into g: u is no longer remembered by itself
    expect(live.record('u', 3, 100)).toBe(false);
  });

  it('forgets markers once they expire', () => {
    const live = new LiveMarkers(10, 'g');
    live.record('a', 1, 100);
    live.record('b', 1, 200);
    expect(live.live(100).map((m) => m.key)).toEqual(['b']);
    expect(live.size).toBe(1);
  });

  it('past its limit folds the oldest markers into the summary key, never losing a time', () => {
    const live = new LiveMarkers(3, 'g');
    live.record('a', 10, 100);
    live.record('b', 30, 300);
    live.record('c', 20, 200);
    live.record('d', 5, 400);
    // a folded into g; then g, b, c, d is four: b folds too.
    const byKey = new Map(live.live(0).map((m) => [m.key, m]));
    expect([...byKey.keys()].sort()).toEqual(['c', 'd', 'g']);
    expect(byKey.get('g')).toEqual({ key: 'g', valueMs: 30, expiresAtMs: 300 });
    expect(live.size).toBe(3);
  });

  it('folds by last write over many laps: a marker written again is folded after those written since', () => {
    const live = new LiveMarkers(4, 'g');
    for (let i = 0; i < 1_000; i++) {
      live.record(`k${i}`, i, 10_000 + i);
      // k0 is written again every time: always the newest, never folded.
      live.record('k0', i, 10_000 + i);
    }
    // The summary (g) and the three written last: k0, then k998 and k999.
    expect(
      live
        .live(0)
        .map((m) => m.key)
        .sort(),
    ).toEqual(['g', 'k0', 'k998', 'k999']);
    // g holds the newest time of all it absorbed (k997 at 997).
    expect(live.live(0).find((m) => m.key === 'g')).toEqual({ key: 'g', valueMs: 997, expiresAtMs: 10_997 });
  });

  it('folds past its limit again after markers expired', () => {
    const live = new LiveMarkers(2, 'g');
    live.record('a', 1, 100);
    live.record('b', 2, 100);
    live.record('c', 3, 100);
    expect(live.live(150)).toEqual([]);
    live.record('d', 4, 500);
    live.record('e', 5, 500);
    live.record('f', 6, 600);
    expect(
      live
        .live(0)
        .map((m) => m.key)
        .sort(),
    ).toEqual(['f', 'g']);
    expect(live.live(0).find((m) => m.key === 'g')).toEqual({ key: 'g', valueMs: 5, expiresAtMs: 500 });
  });

  it('a limit of one keeps just the summary', () => {
    const live = new LiveMarkers(1, 'g');
    live.record('a', 10, 100);
    live.record('b', 5, 900);
    expect(live.live(0)).toEqual([{ key: 'g', valueMs: 10, expiresAtMs: 900 }]);
  });
});

describe('ServerBacklog: what an unreachable server missed', () => {
  const backlog = () =>
    new ServerBacklog<string>(
      (s) => s,
      3,
      () => ['global'],
    );

  const replayed = async (b: ServerBacklog<string>, server: string) => {
    const got: string[] = [];
    await b.replay(server, async (items) => {
      got.push(...items);
    });
    return got;
  };

  it('merges items per server and hands them over once', async () => {
    const b = backlog();
    b.add('s1', ['a', 'b', 'a']);
    b.add('s2', ['c']);
    expect(b.pending('s1')).toBe(2);
    expect(await replayed(b, 's1')).toEqual(['a', 'b']);
    expect(await replayed(b, 's1')).toEqual([]);
    expect(b.pending('s2')).toBe(1);
  });

  it('keeps what a failed replay was given, with what arrived meanwhile', async () => {
    const b = backlog();
    b.add('s1', ['a']);
    const failing = b.replay('s1', async () => {
      b.add('s1', ['b']);
      throw new Error('down again');
    });
    await expect(failing).rejects.toThrow('down again');
    expect((await replayed(b, 's1')).sort()).toEqual(['a', 'b']);
  });

  it('collapses to the global item past its limit', async () => {
    const b = backlog();
    b.add('s1', ['a', 'b', 'c', 'd']);
    expect(await replayed(b, 's1')).toEqual(['global']);
  });
});
