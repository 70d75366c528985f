import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT } from '../support/paths.ts';

// Every script a user can run answers --help with its usage and exit 0, and a mistyped option with one
// line naming it, then the usage, and exit 2: never a stack trace, and nothing started or written.
const node = (script: string) => [process.execPath, script] as const;
const SCRIPTS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['./run', ['./run']],
  ['.ci/run', ['.ci/run']],
  ['scripts/local-services.sh', ['scripts/local-services.sh']],
  ['npm run demo --', ['npm', 'run', '--silent', 'demo', '--']],
  ['npm run bench --', ['npm', 'run', '--silent', 'bench', '--']],
  ['npm run bench:purge --', ['npm', 'run', '--silent', 'bench:purge', '--']],
  ['npm run bench:core --', ['npm', 'run', '--silent', 'bench:core', '--']],
  ['npm run fuzz --', ['npm', 'run', '--silent', 'fuzz', '--']],
  ['scripts/profile-summary.ts', node('scripts/profile-summary.ts')],
  ['scripts/chart-schema.ts', node('scripts/chart-schema.ts')],
  ['scripts/grafana-dashboard.ts', node('scripts/grafana-dashboard.ts')],
  ['scripts/rabbitmq-cluster.ts', node('scripts/rabbitmq-cluster.ts')],
  ['keystone-cache-invalidator', node(CLI)],
];

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: readonly string[], ...args: string[]): Promise<Outcome> {
  const [file, ...rest] = command as [string, ...string[]];
  return new Promise((resolve) => {
    execFile(file, [...rest, ...args], { cwd: REPO_ROOT, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stdout, stderr });
    });
  });
}

const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

describe.concurrent('the scripts a user can run', () => {
  it.each(SCRIPTS)('%s --help prints its usage and exits 0', async (_name, command) => {
    const { code, stdout, stderr } = await run(command, '--help');
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^usage: /im);
    expect(stderr).not.toMatch(STACK_FRAME);
  });

  it.each(SCRIPTS)(
    '%s --no-such-option gives a one-line error, the usage, and exit 2',
    async (_, command) => {
      const { code, stdout, stderr } = await run(command, '--no-such-option');
      expect(code, stdout + stderr).toBe(2);
      const [first, ...rest] = stderr.trim().split('\n');
      expect(first).toMatch(/no-such-option/);
      expect(rest.join('\n')).toMatch(/usage: /i);
      expect(stderr).not.toMatch(STACK_FRAME);
      expect(stdout).toBe('');
    },
  );

  it('a number option given a word names the option and takes nothing else', async () => {
    const { code, stderr } = await run(node('scripts/bench.ts'), '--rate', 'fast');
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe('bench: --rate takes a whole number ≥ 1, not "fast"');
  });
});
