import { existsSync, mkdirSync, writeFileSync } from 'node:fs';

/**
 * A memory cgroup limited to `limitMb`, for running the daemon as the Helm chart deploys it (its
 * container's memory limit). Node sizes its heap, and V8 its young generation, from that limit, so a
 * daemon on a 24 GiB machine without one behaves unlike the one in the pod. Needs root; cgroup v2
 * (memory.max) or v1 (memory.limit_in_bytes). Returns the folder to join (write a PID to cgroup.procs).
 */
export function memoryCgroup(limitMb: number, name = 'kci-bench'): string {
  const bytes = String(limitMb * 2 ** 20);
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    const dir = `/sys/fs/cgroup/${name}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/memory.max`, bytes);
    return dir;
  }
  const dir = `/sys/fs/cgroup/memory/${name}`;
  if (!existsSync('/sys/fs/cgroup/memory'))
    throw new Error('no memory cgroup controller: run without --memory-limit');
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/memory.limit_in_bytes`, bytes);
  return dir;
}

/** `command` inside `cgroup`: a shell joins it, then becomes the command (the child's PID is the command's). */
export function inCgroup(cgroup: string, command: readonly string[]): string[] {
  return ['/bin/sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, ...command];
}
