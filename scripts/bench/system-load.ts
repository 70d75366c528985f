import { readFileSync } from 'node:fs';

interface CpuTimes {
  readonly total: number;
  readonly idle: number;
  readonly steal: number;
}

function cpuTimes(): CpuTimes {
  // cpu  user nice system idle iowait irq softirq steal …, in clock ticks, over every CPU.
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  return { total: user + nice + system + idle + iowait + irq + softirq + steal, idle: idle + iowait, steal };
}

/** How busy the whole machine was between `start()` and `stop()`: the context of a latency figure. */
export class SystemLoad {
  #start: CpuTimes = cpuTimes();

  start(): void {
    this.#start = cpuTimes();
  }

  /** Percent of all CPU time: busy (anything but idle) and stolen by the hypervisor. */
  stop(): { busyPercent: number; stealPercent: number } {
    const end = cpuTimes();
    const total = end.total - this.#start.total || 1;
    return {
      busyPercent: Math.round((1 - (end.idle - this.#start.idle) / total) * 100),
      stealPercent: Math.round(((end.steal - this.#start.steal) / total) * 1000) / 10,
    };
  }
}
