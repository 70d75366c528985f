import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = new Set<string>();

/**
 * A fresh folder under the system's temporary directory, removed with everything in it when the test
 * file ends (test/support/broker-hygiene.ts calls `removeTempDirs`) or, in a script, when the process
 * exits. Tests and scripts create their files only in these.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  if (made.size === 0) process.once('exit', removeTempDirs);
  made.add(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  made.clear();
}
