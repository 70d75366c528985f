import { Worker } from 'node:worker_threads';

export interface WatchPlan {
  readonly servers: readonly string[];
  /** The key of the event with this sequence number: the watcher derives what to poll for. */
  readonly keyPrefix: string;
  readonly count: number;
}

/** Absolute milliseconds, comparable between threads (each has its own performance.timeOrigin). */
export const absoluteNow = () => performance.timeOrigin + performance.now();

/**
 * When each event's marker became visible on every server. The polling runs in a worker thread: on the
 * publisher's event loop a burst of publishes or a GC pause there delayed the polls, and the figures
 * counted that as the daemon's. The publisher and the worker share memory only: how many events have
 * been published (so the worker knows which keys to look for) and, per server, when each was seen.
 */
export class VisibilityWatcher {
  readonly #plan: WatchPlan;
  readonly #published: Int32Array;
  readonly #publishedAt: Float64Array;
  readonly #seenAt: Float64Array[];
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  /** Resolves once the worker is connected to every server and polling. */
  readonly ready: Promise<void>;

  constructor(plan: WatchPlan) {
    this.#plan = plan;
    const published = new SharedArrayBuffer(4);
    const seenAt = plan.servers.map(() => new SharedArrayBuffer(plan.count * 8));
    this.#published = new Int32Array(published);
    this.#publishedAt = new Float64Array(plan.count);
    this.#seenAt = seenAt.map((b) => new Float64Array(b));
    this.#worker = new Worker(new URL('./visibility-poller.ts', import.meta.url), {
      workerData: { ...plan, published, seenAt },
    });
    this.ready = new Promise((resolve, reject) => {
      this.#worker.once('message', () => resolve());
      this.#worker.once('error', reject);
    });
    this.#exited = new Promise((resolve, reject) => {
      this.#worker.once('exit', () => resolve());
      this.#worker.once('error', reject);
    });
  }

  /** Record event `seq` as published now; its key is `${keyPrefix}${seq}`. */
  published(seq: number): void {
    this.#publishedAt[seq] = absoluteNow();
    Atomics.store(this.#published, 0, seq + 1);
  }

  /** Events published so far whose marker is not yet on every server. */
  outstanding(): number {
    const published = Atomics.load(this.#published, 0);
    let missing = 0;
    for (let seq = 0; seq < published; seq++) if (this.#seenAt.some((s) => s[seq] === 0)) missing++;
    return missing;
  }

  /** Publish → visible on every server, in ms, for every event seen everywhere. */
  latencies(): number[] {
    const out: number[] = [];
    for (let seq = 0; seq < this.#plan.count; seq++) {
      const seen = this.#seenAt.map((s) => s[seq] as number);
      if (seen.every((t) => t > 0)) out.push(Math.max(...seen) - (this.#publishedAt[seq] as number));
    }
    return out;
  }

  async stop(): Promise<void> {
    this.#worker.postMessage('stop');
    await this.#exited;
  }
}
