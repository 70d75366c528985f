import { readFileSync, rmdirSync } from 'node:fs';
import { onTestFinished } from 'vitest';
import { memoryCgroup } from '../../scripts/bench/memory-cgroup.ts';
import { runName } from './run-name.ts';

/**
 * A memory cgroup of `limitMb` for this test, as the Helm chart's container limit; removed when the
 * test ends (once its processes have exited). Null where the machine allows none (not root, no
 * writable memory controller): the test then bounds the peak RSS instead.
 */
export function testMemoryCgroup(limitMb: number): string | null {
  let dir: string;
  try {
    dir = memoryCgroup(limitMb, runName('kci-test-memory'));
  } catch {
    return null;
  }
  onTestFinished(async () => {
    // A cgroup goes only once empty: the killed daemon may take a moment to leave it.
    for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(dir);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  return dir;
}

/** The highest resident set a live process has had (VmHWM), in MiB. */
export function peakRssMb(pid: number): number {
  const line = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (line === null) throw new Error(`no VmHWM for process ${pid}`);
  return Number(line[1]) / 1024;
}
