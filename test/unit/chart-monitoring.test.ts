import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dashboard, dashboardIsCurrent } from '../../scripts/grafana-dashboard.ts';

// The chart's PrometheusRule and dashboard ConfigMap carry the repository's files as they are. helm is
// not installable here (test/unit/chart.test.ts), so these tests read the templates: each is off by
// default, reads a file that exists, and the one substitution the PrometheusRule makes is applied
// here as the template states it, to show that it reaches every runbook link.
const CHART = new URL('../../charts/keystone-cache-invalidator/', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(CHART, path), 'utf8');
const defaults = parse(read('values.yaml')) as Record<string, { enabled?: boolean; runbookBaseUrl?: string }>;

interface Rule {
  alert: string;
  annotations: { runbook_url: string };
}
type Groups = { groups: Array<{ name: string; rules: Rule[] }> };

/** The spec the PrometheusRule template renders for a runbook base, from its own replace call. */
function renderedRuleSpec(base: string): Groups {
  const template = read('templates/prometheusrule.yaml');
  const call =
    /\.Files\.Get "([^"]+)" \| trim \| replace "([^"]+)" \(printf "([^"%]*)%s([^"]*)" \.Values\.prometheusRule\.runbookBaseUrl\) \| nindent 2/.exec(
      template,
    );
  if (!call)
    throw new Error('templates/prometheusrule.yaml: no .Files.Get … | replace … | nindent 2 under spec');
  const [, file, from, before, after] = call as unknown as [string, string, string, string, string];
  return parse(read(file).trim().replaceAll(from, `${before}${base}${after}`)) as Groups;
}

describe('the chart ships the alerts and the dashboard', () => {
  it.each([
    ['templates/prometheusrule.yaml', 'prometheusRule', 'files/prometheus-rules.yaml'],
    ['templates/grafana-dashboard.yaml', 'grafanaDashboard', 'files/grafana-dashboard.json'],
  ])('%s renders only with %s.enabled, from %s', (template, value, file) => {
    const text = read(template);
    expect(defaults[value]?.enabled).toBe(false);
    expect(text).toMatch(new RegExp(`^\\{\\{- if \\.Values\\.${value}\\.enabled -\\}\\}$`, 'm'));
    expect(text.trimEnd().endsWith('{{- end }}')).toBe(true);
    expect(text).toContain(`.Files.Get "${file}"`);
    expect(existsSync(join(CHART, file))).toBe(true);
  });

  it('the PrometheusRule is the rule file with every runbook link on runbookBaseUrl', () => {
    const file = parse(read('files/prometheus-rules.yaml')) as Groups;
    const base = 'https://docs.example.org/kci/runbook.html';
    const spec = renderedRuleSpec(base);
    const rules = spec.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(file.groups.flatMap((g) => g.rules.map((r) => r.alert)));
    for (const rule of rules) expect(rule.annotations.runbook_url, rule.alert).toMatch(`${base}#`);
    // Nothing else changed.
    const unlinked = (g: Groups) =>
      JSON.stringify(g).replaceAll(/"runbook_url":"[^"#]*#/g, '"runbook_url":"#');
    expect(unlinked(spec)).toBe(unlinked(file));
    // The default base leaves the file as it is.
    const defaultBase = defaults.prometheusRule?.runbookBaseUrl;
    expect(defaultBase).toBe('docs/runbook.md');
    expect(renderedRuleSpec(defaultBase ?? '')).toEqual(file);
  });

  it('the dashboard ConfigMap carries the label Grafana’s sidecar looks for', () => {
    const text = read('templates/grafana-dashboard.yaml');
    expect(text).toMatch(/^ {2}labels:\n(?: {4}.*\n)*? {4}grafana_dashboard: "1"$/m);
    expect(text).toMatch(
      /^ {2}keystone-cache-invalidator\.json: \|-\n {4}\{\{- \.Files\.Get "files\/grafana-dashboard\.json" \| trim \| nindent 4 \}\}$/m,
    );
  });

  it('the dashboard JSON is the one scripts/grafana-dashboard.ts writes', () => {
    expect(dashboardIsCurrent()).toBe(true);
  });

  it('the dashboard shows what an operator needs, every query on the job variable', () => {
    const panels = dashboard().panels as Array<{
      id: number;
      type: string;
      targets?: Array<{ expr: string }>;
    }>;
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    for (const expr of exprs) expect(expr).toContain('job=~"$job"');
    const shown = exprs.join('\n');
    for (const metric of [
      'kci_notifications_total',
      'kci_invalidations_total',
      'kci_notification_lag_seconds_bucket',
      'kci_notifications_parked_total',
      'kci_gaps_total',
      'kci_memcached_server_up',
      'kci_replay_pending_items',
      'kci_replays_total',
      'kci_middleware_scan_duration_seconds_bucket',
      'kci_purge_index_build_seconds_bucket',
      'kci_broker_consuming',
      'kci_revocation_polls_total',
      'kci_revocation_poll_age_seconds',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      expect(shown).toContain(metric);
  });
});
