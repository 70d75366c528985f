import { describe, expect, it } from 'vitest';
import { MarkersAction } from '../../src/actions/markers.ts';
import { type Target, target, targetName } from '../../src/core/targets.ts';
import { Coalescer, CoalescerStopped } from '../../src/pipeline/coalescer.ts';
import type { Action, Invalidation } from '../../src/ports/action.ts';
import { MemoryCacheServer } from '../support/memory-cache-server.ts';
import { MARKER_SETTINGS, NO_OBSERVERS } from '../support/memory-pipeline.ts';

/** An in-memory action whose writes finish when the test says so. */
class GatedAction implements Action<Target> {
  readonly name = 'gated';
  repeatAfterMs = 0;
  readonly started: Target[][] = [];
  readonly #gates: PromiseWithResolvers<void>[] = [];
  failuresLeft = 0;

  plan(invalidation: Invalidation): readonly Target[] {
    return invalidation.targets;
  }

  laneOf(t: Target): string {
    return targetName(t);
  }

  itemKey(t: Target): string {
    return targetName(t);
  }

  apply(batch: readonly Target[]): Promise<void> {
    this.started.push([...batch]);
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      return Promise.reject(new Error('server down'));
    }
    const gate = Promise.withResolvers<void>();
    this.#gates.push(gate);
    return gate.promise;
  }

  finishNext(): void {
    this.#gates.shift()?.resolve();
  }
}

const tick = () => new Promise((r) => setTimeout(r, 5));
/** The coalescer starts a tick's batch once the promise jobs queued before this one have run. */
const batchStarted = () => new Promise<void>((r) => queueMicrotask(r));
const retry = { initialDelayMs: 1, maxDelayMs: 2 };

describe('coalescer', () => {
  it('starts a write for an idle key in the same tick, once its promise jobs have run', async () => {
    const action = new GatedAction();
    const c = new Coalescer(action, retry, () => {});
    const done = c.cover(target('user', 'u1'));
    expect(action.started).toEqual([]);
    await batchStarted();
    expect(action.started).toEqual([[target('user', 'u1')]]);
    action.finishNext();
    await expect(done).resolves.toBeUndefined();
    expect(c.activeLanes).toBe(0);
  });

  it('covers events arriving during a write with exactly one further write', async () => {
    const action = new GatedAction();
    const c = new Coalescer(action, retry, () => {});
    const first = c.cover(target('user', 'u1'));
    await batchStarted();
    let laterSettled = 0;
    const later = [1, 2, 3].map(() => c.cover(target('user', 'u1')).then(() => laterSettled++));
    action.finishNext();
    await first;
    await tick();
    // The in-flight write took its time before these events: they must wait for the next one.
    expect(laterSettled).toBe(0);
    expect(action.started).toHaveLength(2);
    action.finishNext();
    await Promise.all(later);
    expect(laterSettled).toBe(3);
    expect(action.started).toHaveLength(2);
  });

  it('writes the keys that arrive in one tick with one apply', async () => {
    const action = new GatedAction();
    const c = new Coalescer(action, retry, () => {});
    const covered = [c.cover(target('user', 'u1')), c.cover(target('project', 'p1'))];
    await batchStarted();
    expect(action.started.map((b) => b.map(targetName))).toEqual([['user:u1', 'project:p1']]);
    action.finishNext();
    await Promise.all(covered);
    expect(c.activeLanes).toBe(0);
  });

  it('does not hold a key back behind the write of another key in flight', async () => {
    const action = new GatedAction();
    const c = new Coalescer(action, retry, () => {});
    void c.cover(target('user', 'u1'));
    await batchStarted();
    const p1 = c.cover(target('project', 'p1'));
    await batchStarted();
    expect(action.started.map((b) => b.map(targetName))).toEqual([['user:u1'], ['project:p1']]);
    action.finishNext();
    action.finishNext();
    await p1;
  });

  it('writes what arrived during one batch for several keys as one further batch', async () => {
    const action = new GatedAction();
    const c = new Coalescer(action, retry, () => {});
    const first = [c.cover(target('user', 'u1')), c.cover(target('user', 'u2'))];
    await batchStarted();
    let laterSettled = 0;
    const later = [c.cover(target('user', 'u1')), c.cover(target('user', 'u2'))].map((p) =>
      p.then(() => laterSettled++),
    );
    action.finishNext();
    await Promise.all(first);
    await tick();
    expect(laterSettled).toBe(0);
    expect(action.started.map((b) => b.map(targetName))).toEqual([
      ['user:u1', 'user:u2'],
      ['user:u1', 'user:u2'],
    ]);
    action.finishNext();
    await Promise.all(later);
    expect(laterSettled).toBe(2);
    expect(c.activeLanes).toBe(0);
  });

  it('retries a failed write until it succeeds, and only then answers', async () => {
    const action = new GatedAction();
    action.failuresLeft = 2;
    const errors: number[] = [];
    const c = new Coalescer(action, retry, (_e, attempt) => errors.push(attempt));
    const done = c.cover(target('user', 'u1'));
    await tick();
    await tick();
    expect(errors).toEqual([0, 1]);
    expect(action.started).toHaveLength(3);
    action.finishNext();
    await expect(done).resolves.toBeUndefined();
  });

  it('frees the lane when a write fails for good, so later callers are not stuck behind it', async () => {
    const action = new GatedAction();
    action.failuresLeft = 1;
    const c = new Coalescer(action, retry, () => {
      throw new Error('retry handler broke');
    });
    const first = c.cover(target('user', 'u1'));
    await batchStarted();
    const waiting = c.cover(target('user', 'u1'));
    await expect(first).rejects.toThrow('retry handler broke');
    await expect(waiting).rejects.toThrow('retry handler broke');
    expect(c.activeLanes).toBe(0);
    const later = c.cover(target('user', 'u1'));
    await batchStarted();
    action.finishNext();
    await expect(later).resolves.toBeUndefined();
  });

  it('applies an invalidation a second time after the repeat delay, and answers only after both', async () => {
    const action = new GatedAction();
    action.repeatAfterMs = 20;
    const c = new Coalescer(action, retry, () => {});
    const invalidation = { event: {} as Invalidation['event'], targets: [target('user', 'u1')] };
    let settled = false;
    const done = c.coverInvalidation(invalidation).then(() => {
      settled = true;
    });
    await batchStarted();
    action.finishNext();
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false);
    await new Promise((r) => setTimeout(r, 30));
    expect(action.started).toHaveLength(2);
    expect(settled).toBe(false);
    action.finishNext();
    await done;
    expect(settled).toBe(true);
  });

  it('fails waiting callers when stopped, so their deliveries are redelivered', async () => {
    const action = new GatedAction();
    action.failuresLeft = 1_000;
    const c = new Coalescer(action, { initialDelayMs: 10_000, maxDelayMs: 10_000 }, () => {});
    const inFlight = c.cover(target('user', 'u1'));
    const next = c.cover(target('user', 'u1'));
    c.stop();
    await expect(inFlight).rejects.toBeInstanceOf(CoalescerStopped);
    await expect(next).rejects.toBeInstanceOf(CoalescerStopped);
    await expect(c.cover(target('user', 'u2'))).rejects.toBeInstanceOf(CoalescerStopped);
  });
});

describe('the coalescer with the markers action, on in-memory servers', () => {
  it('300 invalidations of one user while a write is in flight cost two writes, and all are answered', async () => {
    const servers = [new MemoryCacheServer('a:1'), new MemoryCacheServer('b:1')];
    for (const server of servers) await server.version();
    const markers = new MarkersAction(servers, MARKER_SETTINGS, Date.now, NO_OBSERVERS.markers);
    const written: number[] = [];
    const c = new Coalescer(markers, retry, () => {}, { requested() {}, written: (n) => written.push(n) });
    const first = c.cover(target('user', 'u1'));
    await batchStarted();
    await Promise.all([first, ...Array.from({ length: 299 }, () => c.cover(target('user', 'u1')))]);
    expect(written).toEqual([1, 1]);
    for (const server of servers) expect(server.keys()).toEqual(['kci:v1:user:u1']);
  });

  it('retries a batch while every server is away, and writes it once one is back', async () => {
    const servers = [new MemoryCacheServer('a:1'), new MemoryCacheServer('b:1')];
    for (const server of servers) server.goAway();
    const markers = new MarkersAction(servers, MARKER_SETTINGS, Date.now, NO_OBSERVERS.markers);
    const attempts: number[] = [];
    const c = new Coalescer(markers, { initialDelayMs: 1, maxDelayMs: 2 }, (_e, attempt) =>
      attempts.push(attempt),
    );
    const covered = c.cover(target('user', 'u1'));
    await new Promise((r) => setTimeout(r, 20));
    (servers[1] as MemoryCacheServer).comeBack();
    await covered;
    expect(attempts.length).toBeGreaterThan(1);
    expect(servers[1]?.keys()).toEqual(['kci:v1:user:u1']);
    expect(markers.pending('a:1')).toBe(1);
    c.stop();
  });
});
