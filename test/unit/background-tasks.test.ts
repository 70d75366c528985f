import { describe, expect, it } from 'vitest';
import { BackgroundTasks } from '../../src/util/background-tasks.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the daemon background tasks', () => {
  it('stop aborts every task and waits for each to end', async () => {
    const tasks = new BackgroundTasks(() => {});
    let ended = false;
    tasks.run('read-back', async (signal) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      await sleep(10);
      ended = true;
    });
    await tasks.stop(Date.now() + 1000);
    expect(ended).toBe(true);
    expect(tasks.size).toBe(0);
  });

  it('a periodic task never overlaps itself: a slow run delays the next', async () => {
    const tasks = new BackgroundTasks(() => {});
    let running = 0;
    let most = 0;
    let runs = 0;
    tasks.every('probe', 2, async () => {
      running++;
      most = Math.max(most, running);
      runs++;
      await sleep(15);
      running--;
    });
    await sleep(60);
    await tasks.stop(Date.now() + 1000);
    expect(runs).toBeGreaterThan(1);
    expect(most).toBe(1);
  });

  it('reports a failing run and keeps the schedule', async () => {
    const failures: string[] = [];
    const tasks = new BackgroundTasks((task, error) => failures.push(`${task}: ${(error as Error).message}`));
    let runs = 0;
    tasks.every('probe', 2, () => {
      runs++;
      throw new Error('boom');
    });
    await sleep(30);
    await tasks.stop(Date.now() + 1000);
    expect(runs).toBeGreaterThan(1);
    expect(failures[0]).toBe('probe: boom');
  });

  it('does not wait past the deadline for a task that ignores the abort', async () => {
    const tasks = new BackgroundTasks(() => {});
    tasks.run('stuck', () => new Promise(() => {}));
    await tasks.stop(Date.now() + 30);
    // stop returned with the stuck task still running; and nothing starts after stop.
    expect(tasks.size).toBe(1);
    tasks.run('late', async () => {});
    expect(tasks.size).toBe(1);
  });
});
