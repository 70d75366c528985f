import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startTestDaemon, type TestDaemon, testConfigYaml } from '../support/daemon.ts';
import { SERVERS } from '../support/memcached-probe.ts';
import { REPO_ROOT } from '../support/paths.ts';
import { startPrometheus, type TestPrometheus } from '../support/prometheus.ts';
import { exportedNames, metricNames } from '../support/promql-names.ts';
import { runName } from '../support/run-name.ts';
import { startProxy, type TestProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/wait.ts';

// The rule file and the dashboard that ship, against a real Prometheus (Debian's) scraping a real
// daemon: what promtool's unit tests cannot see is whether the metrics they name are the ones the
// daemon exports, and whether Prometheus evaluates them on its scrape.
const POOL = runName('kci-test-prometheus');
const CHART_FILES = resolve(REPO_ROOT, 'charts/keystone-cache-invalidator/files');
const RULE_FILE = readFileSync(resolve(CHART_FILES, 'prometheus-rules.yaml'), 'utf8');
const DASHBOARD = JSON.parse(readFileSync(resolve(CHART_FILES, 'grafana-dashboard.json'), 'utf8')) as {
  panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
};
const DRIVEN = 'KciMemcachedAllDown';
/** What promtool says of prom-client's collectDefaultMetrics, which the daemon exports as they are. */
const PROM_CLIENT_FINDINGS = new Set(
  ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'].map(
    (name) => `${name} non-counter metrics should not have "_total" suffix`,
  ),
);

interface Rule {
  alert: string;
  expr: string;
  for?: string;
}
const RULES = (parse(RULE_FILE) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);

/** The rule file with a `for:` of seconds on the alert this test drives; every other rule as it ships. */
function rulesForTest(): string {
  const doc = parse(RULE_FILE) as { groups: Array<{ rules: Rule[] }> };
  const rule = doc.groups.flatMap((g) => g.rules).find((r) => r.alert === DRIVEN);
  if (!rule) throw new Error(`${DRIVEN} is not in the rule file`);
  rule.for = '3s';
  return stringify(doc);
}

/** A dashboard query as Grafana sends it: its variables replaced by what this Prometheus holds. */
const asGrafanaSends = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replaceAll('$job', 'kci');

const DASHBOARD_QUERIES = DASHBOARD.panels.flatMap((p) =>
  (p.targets ?? []).map((t) => [p.title, asGrafanaSends(t.expr)] as const),
);

/** What `promtool check metrics` prints about an exposition (nothing when it finds no problem). */
function promtoolCheckMetrics(exposition: string): Promise<{ output: string }> {
  return new Promise((done) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => {
      output += c;
    });
    child.stderr.on('data', (c) => {
      output += c;
    });
    child.on('close', () => done({ output }));
    child.stdin.end(exposition);
  });
}

describe('the alert rules and the dashboard, on a real Prometheus scraping the daemon', () => {
  let proxies: TestProxy[] = [];
  let daemon: TestDaemon | undefined;
  let prometheus: TestPrometheus | undefined;
  const prom = () => prometheus as TestPrometheus;
  const scrape = async () =>
    (await fetch(`http://127.0.0.1:${daemon?.daemon.httpAddress.port}/metrics`)).text();

  beforeAll(async () => {
    // memcached behind proxies, so that the test can make both servers unreachable.
    proxies = await Promise.all(SERVERS.map((s) => startProxy(Number(s.split(':')[1]))));
    daemon = await startTestDaemon(
      testConfigYaml(POOL, {
        servers: proxies.map((p) => `127.0.0.1:${p.port}`),
        memcached: ['probeIntervalMs: 200'],
      }),
    );
    prometheus = await startPrometheus({
      target: `127.0.0.1:${daemon.daemon.httpAddress.port}`,
      rules: rulesForTest(),
    });
    await waitFor(
      'Prometheus to scrape both servers up',
      async () =>
        (await prom().query('sum(kci_memcached_server_up) == 2')).data?.result.length ? true : undefined,
      20_000,
    );
  }, 60_000);

  afterAll(async () => {
    try {
      await prometheus?.stop();
    } finally {
      for (const p of proxies) p.refuse(false);
      try {
        await daemon?.stop();
      } finally {
        await Promise.all(proxies.map((p) => p.close()));
      }
    }
  }, 30_000);

  it('loads every alert of the rule file and evaluates each without error', async () => {
    const rules = await waitFor('every rule to be evaluated', async () => {
      const all = await prom().rules();
      return all.every((r) => r.health !== 'unknown') ? all : undefined;
    });
    expect(rules.map((r) => r.name)).toEqual(RULES.map((r) => r.alert));
    expect(rules.filter((r) => r.health !== 'ok')).toEqual([]);
    for (const rule of RULES) {
      const answer = await prom().query(rule.expr);
      expect([rule.alert, answer.status, answer.error]).toEqual([rule.alert, 'success', undefined]);
    }
  });

  it('every alert names only metrics the daemon exports', async () => {
    const exported = exportedNames(await scrape());
    for (const rule of RULES) {
      const names = metricNames(rule.expr);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      expect(
        names.filter((n) => !exported.has(n)),
        rule.alert,
      ).toEqual([]);
    }
  });

  it('every dashboard query evaluates and names only metrics the daemon exports', async () => {
    const exported = exportedNames(await scrape());
    expect(DASHBOARD_QUERIES.length).toBeGreaterThan(20);
    for (const [panel, expr] of DASHBOARD_QUERIES) {
      const answer = await prom().query(expr);
      expect([panel, expr, answer.status, answer.error]).toEqual([panel, expr, 'success', undefined]);
      expect(
        metricNames(expr).filter((n) => !exported.has(n)),
        panel,
      ).toEqual([]);
    }
    // The job variable matches what Prometheus scraped: a panel over a gauge shows the daemon.
    const versions = DASHBOARD_QUERIES.find(([panel]) => panel === 'Versions')?.[1] ?? 'missing';
    expect((await prom().query(versions)).data?.result).toHaveLength(1);
  });

  it('promtool check metrics finds no naming problem in a live /metrics but prom-client defaults', async () => {
    const { output } = await promtoolCheckMetrics(await scrape());
    // Any other output (a parse error too) is a problem the filter below keeps.
    const problems = output.split('\n').filter(Boolean);
    // prom-client's default Node.js gauges end in _total (upstream names every Node.js dashboard
    // uses); nothing else may show up, and nothing of the daemon's own.
    expect(problems.filter((p) => !PROM_CLIENT_FINDINGS.has(p))).toEqual([]);
    expect(problems.filter((p) => p.startsWith('kci_'))).toEqual([]);
  });

  it(`${DRIVEN} goes pending, then firing, when both memcached servers become unreachable`, async () => {
    const state = async () =>
      (await prom().alerts()).find((a) => a.labels.alertname === DRIVEN)?.state ?? 'inactive';
    expect(await state()).toBe('inactive');
    const seen = ['inactive'];
    for (const p of proxies) {
      p.refuse(true);
      p.cutAll();
    }
    await waitFor(
      `${DRIVEN} to fire`,
      async () => {
        const s = await state();
        if (seen.at(-1) !== s) seen.push(s);
        return s === 'firing' ? true : undefined;
      },
      20_000,
    );
    expect(seen).toEqual(['inactive', 'pending', 'firing']);
    // And it resolves once a server answers again.
    proxies[0]?.refuse(false);
    await waitFor(
      `${DRIVEN} to resolve`,
      async () => ((await state()) === 'inactive' ? true : undefined),
      20_000,
    );
  }, 60_000);
});
