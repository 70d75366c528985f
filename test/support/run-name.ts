import { randomBytes } from 'node:crypto';

/**
 * One suffix for every name this test process declares on the broker. A queue or exchange left by an
 * earlier, interrupted run (or by anyone else) then never shares a name with this run's: the suite
 * neither consumes from it nor deletes it, and the broker's list after the suite is the list before.
 */
const RUN = `${process.pid.toString(36)}${randomBytes(3).toString('hex')}`;

/** `base` made unique to this run; the same base gives the same name for the whole file. */
export function runName(base: string): string {
  return `${base}-${RUN}`;
}
