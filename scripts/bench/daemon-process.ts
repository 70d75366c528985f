import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { sample } from '../../test/support/metrics-text.ts';
import { inCgroup } from './memory-cgroup.ts';
import { processCpuSeconds } from './process-cpu.ts';

const CLI = new URL('../../bin/keystone-cache-invalidator.js', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface DaemonOptions {
  readonly config: string;
  readonly httpPort: number;
  /** Flags for node itself (the image's: productionNodeFlags), before the CLI. */
  readonly nodeFlags: readonly string[];
  /** Variables added to the daemon's environment (the image's allocator settings). */
  readonly env: Readonly<Record<string, string>>;
  /** Write a CPU and an allocation profile on exit, and a heap snapshot on `snapshot()`, here. */
  readonly profileDir?: string | undefined;
  /** Run inside this memory cgroup (see memoryCgroup), as in a container with a memory limit. */
  readonly cgroup?: string | undefined;
}

/** What the daemon used between `mark()` and `usage()`. */
export interface DaemonUsage {
  /** User + system CPU over wall time. */
  readonly cpuPercent: number;
  /** Share of wall time its main thread was ready to run but waited for a CPU (the machine was full). */
  readonly waitedForCpuPercent: number;
  readonly peakRssMb: number;
  /** Of it, anonymous memory (heap, buffers): RSS less the mapped node binary and libraries. */
  readonly peakRssAnonMb: number;
}

/** The daemon as its own process (the built CLI, as in production); its RSS and CPU come from /proc. */
export class DaemonProcess {
  readonly child: ChildProcess;
  /** When the process was spawned (performance.now() of the bench). */
  readonly spawnedAt = performance.now();
  readonly #port: number;
  #peakRssBytes = 0;
  #peakAnonBytes = 0;
  #mark = { at: 0, cpu: 0, waited: 0 };
  readonly #sampler: NodeJS.Timeout;

  constructor(options: DaemonOptions) {
    this.#port = options.httpPort;
    const dir = options.profileDir;
    const profiling =
      dir === undefined
        ? []
        : [
            '--cpu-prof',
            `--cpu-prof-dir=${dir}`,
            '--heap-prof',
            `--heap-prof-dir=${dir}`,
            '--heapsnapshot-signal=SIGUSR2',
            `--diagnostic-dir=${dir}`,
          ];
    const node = [
      process.execPath,
      ...options.nodeFlags,
      ...profiling,
      CLI,
      'run',
      '--config',
      options.config,
    ];
    const [command, ...args] = options.cgroup === undefined ? node : inCgroup(options.cgroup, node);
    this.child = spawn(command as string, args, {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, ...options.env },
    });
    // A bench that is interrupted must not leave its daemon holding the HTTP port and the queue.
    process.once('exit', this.#kill);
    this.#sampler = setInterval(() => this.#sample(), 50);
  }

  /** When `ready` first saw /readyz answer 200 (performance.now() of the bench); 0 before. */
  readyAt = 0;

  async ready(): Promise<void> {
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`the daemon exited with ${this.child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${this.#port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) {
        if (this.readyAt === 0) this.readyAt = performance.now();
        return;
      }
      await sleep(10);
    }
  }

  rssBytes(): number {
    return this.#status('VmRSS');
  }

  #status(field: string): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  }

  #sample(): void {
    this.#peakRssBytes = Math.max(this.#peakRssBytes, this.rssBytes());
    this.#peakAnonBytes = Math.max(this.#peakAnonBytes, this.#status('RssAnon'));
  }

  /** Start of a measured stretch: CPU, CPU wait and peak RSS count from here. */
  mark(): void {
    this.#mark = { at: performance.now(), cpu: this.#cpuSeconds(), waited: this.#waitedSeconds() };
    this.#peakRssBytes = 0;
    this.#peakAnonBytes = 0;
    this.#sample();
  }

  usage(): DaemonUsage {
    const wall = (performance.now() - this.#mark.at) / 1000;
    const percent = (s: number) => Math.round((s / wall) * 100);
    return {
      cpuPercent: percent(this.#cpuSeconds() - this.#mark.cpu),
      waitedForCpuPercent: percent(this.#waitedSeconds() - this.#mark.waited),
      peakRssMb: Math.round(this.#peakRssBytes / 2 ** 20),
      peakRssAnonMb: Math.round(this.#peakAnonBytes / 2 ** 20),
    };
  }

  /** One scrape of /metrics; read it with `sample`. */
  async scrape(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.#port}/metrics`)).text();
  }

  /** Sum of a metric's samples whose line contains `labels`, from a fresh scrape. */
  async metric(name: string, labels = ''): Promise<number> {
    return sample(await this.scrape(), name, labels);
  }

  /** A heap snapshot (written by the daemon itself, with --heapsnapshot-signal); resolves once written. */
  async snapshot(): Promise<void> {
    const before = this.rssBytes();
    this.child.kill('SIGUSR2');
    // Writing a snapshot blocks the daemon's event loop: it is done when /readyz answers again.
    await sleep(100 + before / 2 ** 20);
    await this.ready();
  }

  readonly #kill = () => this.child.kill('SIGKILL');

  async stop(): Promise<void> {
    clearInterval(this.#sampler);
    process.off('exit', this.#kill);
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }

  #cpuSeconds(): number {
    return processCpuSeconds(this.child.pid as number);
  }

  /** Seconds the main thread spent runnable on a run queue, not running (schedstat's second field). */
  #waitedSeconds(): number {
    const pid = this.child.pid;
    const fields = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ');
    return Number(fields[1]) / 1e9;
  }
}
