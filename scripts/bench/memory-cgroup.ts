import { existsSync, mkdirSync, writeFileSync } from 'node:fs';

/**
 * A memory cgroup limited to `limitMb`, for running the daemon as the Helm chart deploys it (its
 * container's memory limit). Node sizes its heap, and V8 its young generation, from that limit, so a
 * daemon on a 24 GiB machine without one behaves unlike the one in the pod. Needs root; cgroup v2
 * (memory.max) or v1 (memory.limit_in_bytes). Returns the folder to join (write a PID to cgroup.procs).
 */
export function memoryCgroup(limitMb: number): string {
  const bytes = String(limitMb * 2 ** 20);
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    const dir = '/sys/fs/cgroup/kci-bench';
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/memory.max`, bytes);
    return dir;
  }
  const dir = '/sys/fs/cgroup/memory/kci-bench';
  if (!existsSync('/sys/fs/cgroup/memory'))
    throw new Error('no memory cgroup controller: run without --memory-limit');
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/memory.limit_in_bytes`, bytes);
  return dir;
}
