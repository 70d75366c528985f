import { readFileSync } from 'node:fs';

/** User + system CPU seconds a process has used so far (/proc/PID/stat, in USER_HZ ticks of 1/100 s). */
export function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
