import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/paths.ts';

// The rule file that ships (and that the chart's PrometheusRule carries) passes promtool's checks, and
// its unit tests pass: every alert fires on the series that should fire it and stays quiet on a
// healthy one (test/prometheus/; test/unit/alert-rules.test.ts checks that no alert lacks either case).
const RULE_FILE = resolve(REPO_ROOT, 'charts/keystone-cache-invalidator/files/prometheus-rules.yaml');
const TESTS_DIR = resolve(REPO_ROOT, 'test/prometheus');
const TEST_FILES = readdirSync(TESTS_DIR).filter((f) => f.endsWith('.test.yaml'));

function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile('promtool', args, { cwd: REPO_ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      done({ code: error ? ((error as { code?: number }).code ?? -1) : 0, output: stdout + stderr });
    });
  });
}

describe('promtool', () => {
  it('check rules accepts the rule file', async () => {
    const { code, output } = await promtool('check', 'rules', RULE_FILE);
    expect(code, output).toBe(0);
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it.each(TEST_FILES)('test rules passes test/prometheus/%s', async (file) => {
    const { code, output } = await promtool('test', 'rules', resolve(TESTS_DIR, file));
    expect(code, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });
});
