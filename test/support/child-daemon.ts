import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { inCgroup } from '../../scripts/bench/memory-cgroup.ts';
import { CLI } from './paths.ts';
import { tempDir } from './temp-dirs.ts';
import { waitFor } from './wait.ts';

/** The daemon as operators run it: the CLI in its own process, output captured. */
export interface ChildDaemon {
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

export function writeConfig(yaml: string): string {
  const path = join(tempDir('kci-config'), 'config.yaml');
  writeFileSync(path, yaml);
  return path;
}

/** `cgroup`: run inside this memory cgroup (test/support/memory-limit.ts). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cgroup?: string): ChildDaemon {
  const node = [process.execPath, CLI, ...args];
  const [command, ...rest] = cgroup === undefined ? node : inCgroup(cgroup, node);
  const child = spawn(command as string, rest, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (c) => {
    text += c;
  });
  child.stderr?.on('data', (c) => {
    text += c;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // However the test ends, its daemon must not live on (and keep writing into the shared servers).
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    output: () => text,
    waitForLog: (pattern, timeoutMs = 15_000) =>
      waitFor(`log matching ${pattern}`, async () => (pattern.test(text) ? true : undefined), timeoutMs).then(
        () => {},
      ),
    exited,
  };
}
