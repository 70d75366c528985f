import { sleep } from './backoff.ts';

/**
 * The work a daemon runs beside its pipeline (probes, re-assertion, the read-back at start), owned in
 * one place so that stopping can end all of it and wait for it: nothing is fired and forgotten. Every
 * task receives the signal that aborts when the owner stops. A failing task is reported, never thrown.
 */
export class BackgroundTasks {
  readonly #stop = new AbortController();
  readonly #running = new Set<Promise<void>>();
  readonly #onError: (task: string, error: unknown) => void;

  constructor(onError: (task: string, error: unknown) => void) {
    this.#onError = onError;
  }

  /** Aborts when `stop` is called. */
  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  /** Runs `task` once, now, in the background. */
  run(name: string, task: (signal: AbortSignal) => Promise<void>): void {
    if (this.#stop.signal.aborted) return;
    const running = task(this.#stop.signal).catch((error: unknown) => {
      if (!this.#stop.signal.aborted) this.#onError(name, error);
    });
    this.#running.add(running);
    void running.finally(() => this.#running.delete(running));
  }

  /**
   * Runs `task` every `intervalMs`, the first time after one interval. Runs never overlap: the next
   * interval starts when a run has ended, so a slow server delays its own next probe, not piles them up.
   */
  every(name: string, intervalMs: number, task: (signal: AbortSignal) => Promise<void> | void): void {
    this.run(name, async (signal) => {
      for (;;) {
        await sleep(intervalMs, signal);
        if (signal.aborted) return;
        try {
          await task(signal);
        } catch (error) {
          if (signal.aborted) return;
          this.#onError(name, error);
        }
      }
    });
  }

  /** Aborts every task and waits for them to end, but not past `deadline` (epoch ms). */
  async stop(deadline: number): Promise<void> {
    this.#stop.abort();
    const waitLimit = new AbortController();
    await Promise.race([
      Promise.allSettled([...this.#running]),
      sleep(Math.max(0, deadline - Date.now()), waitLimit.signal),
    ]);
    waitLimit.abort();
  }

  /** Tasks still running (a periodic task counts while it waits for its next run). */
  get size(): number {
    return this.#running.size;
  }
}
