import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/paths.ts';

// The rule file and the runbook's alarm catalog say the same thing: one alert per row, the same
// PromQL and `for:`, and every alert links to a section the runbook has. promtool runs the rule tests
// (test/integration/prometheus-rules.test.ts); this checks that every alert has them.
const RULE_PATH = 'charts/keystone-cache-invalidator/files/prometheus-rules.yaml';
const RUNBOOK = readFileSync(resolve(REPO_ROOT, 'docs/runbook.md'), 'utf8');
const PROMTOOL_TESTS = resolve(REPO_ROOT, 'test/prometheus');

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const RULES = (
  parse(readFileSync(resolve(REPO_ROOT, RULE_PATH), 'utf8')) as { groups: Array<{ rules: Rule[] }> }
).groups.flatMap((g) => g.rules);

/** The rows of the runbook's alarm table: name, PromQL (unescaped) and `for`, if any. */
function catalog(): Array<{ alert: string; expr: string; for?: string }> {
  const section = RUNBOOK.slice(RUNBOOK.indexOf('## Alarms'), RUNBOOK.indexOf('## Procedures'));
  return [...section.matchAll(/^\| (Kci\w+) \| `(.+?)`(?: \(for (\w+)\))? \|/gm)].map(
    ([, alert, expr, f]) => ({
      alert: alert as string,
      expr: (expr as string).replaceAll('\\|', '|'),
      ...(f ? { for: f } : {}),
    }),
  );
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  return new Set(
    [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map(([, h]) =>
      (h as string)
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replaceAll(' ', '-'),
    ),
  );
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

interface PromtoolCase {
  alertname: string;
  exp_alerts: unknown[];
}
function promtoolCases(): PromtoolCase[] {
  return readdirSync(PROMTOOL_TESTS)
    .filter((f) => f.endsWith('.test.yaml'))
    .flatMap((f) => {
      const doc = parse(readFileSync(resolve(PROMTOOL_TESTS, f), 'utf8')) as {
        rule_files: string[];
        tests: Array<{ alert_rule_test: PromtoolCase[] }>;
      };
      expect(
        doc.rule_files.map((r) => resolve(PROMTOOL_TESTS, r)),
        f,
      ).toEqual([resolve(REPO_ROOT, RULE_PATH)]);
      return doc.tests.flatMap((t) => t.alert_rule_test);
    });
}

describe('the alert rules', () => {
  it('are the runbook catalog: the same alerts, in order, with the same PromQL and for:', () => {
    const rows = catalog();
    expect(rows.length).toBeGreaterThan(20);
    expect(
      RULES.map((r) => ({ alert: r.alert, expr: oneLine(r.expr), ...(r.for ? { for: r.for } : {}) })),
    ).toEqual(rows);
  });

  it.each(RULES.map((r) => [r.alert, r] as const))(
    '%s has a severity, a summary, a description and a runbook link',
    (_, rule) => {
      expect(['critical', 'warning', 'info']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toMatch(/\w/);
      expect(rule.annotations?.description).toMatch(/\w/);
      // Relative to the repository root; the chart swaps `docs/runbook.md` for prometheusRule.runbookBaseUrl.
      const anchor = /^docs\/runbook\.md#([a-z0-9-]+)$/.exec(rule.annotations?.runbook_url ?? '')?.[1];
      expect(anchors(RUNBOOK)).toContain(anchor);
    },
  );

  it('each alert has a promtool case where it fires and one where it stays quiet', () => {
    const cases = promtoolCases();
    for (const rule of RULES) {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect({
        alert: rule.alert,
        fires: mine.some((c) => c.exp_alerts.length > 0),
        quiet: mine.some((c) => c.exp_alerts.length === 0),
      }).toEqual({ alert: rule.alert, fires: true, quiet: true });
    }
    expect(cases.filter((c) => !RULES.some((r) => r.alert === c.alertname))).toEqual([]);
  });
});
