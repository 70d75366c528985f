import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/paths.ts';

// The Python readers' own tests (contrib/python/tests, stdlib unittest) run with Debian's Python, whose
// OpenStack packages import only there. Each Python test becomes one test here, so CI counts them.
const CONTRIB = join(REPO_ROOT, 'contrib/python');
const run = spawnSync('/usr/bin/python3', ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.', '-v'], {
  cwd: CONTRIB,
  env: { ...process.env, PYTHONPATH: CONTRIB },
  encoding: 'utf8',
  timeout: 120_000,
});
const report = `${run.stdout ?? ''}${run.stderr ?? ''}`;
const results = [
  ...report.matchAll(
    /^(test\w*) \(([\w.]+)\)(?:\n(?!test)[^\n]*)? \.\.\. (ok|FAIL|ERROR|skipped[^\n]*|expected failure|unexpected success)$/gm,
  ),
].map((m) => ({ name: `${m[2]}: ${m[1]}`, outcome: m[3] as string }));

describe('contrib/python (kci_markers) unit tests', () => {
  it('ran and reported every test', () => {
    expect(results.length, report.slice(-3000)).toBeGreaterThan(0);
    expect(report).toMatch(new RegExp(`Ran ${results.length} tests?`));
  });

  it.each(results.map((r) => [r.name, r] as const))('%s', (_name, r) => {
    expect(r.outcome === 'ok' || r.outcome.startsWith('skipped'), report.slice(-3000)).toBe(true);
  });
});
