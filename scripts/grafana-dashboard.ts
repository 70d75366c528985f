// Writes charts/keystone-cache-invalidator/files/grafana-dashboard.json: the Grafana dashboard that the
// chart ships as a ConfigMap (grafanaDashboard.enabled) and operators may import as is. The panels are
// listed in grafana-dashboard-panels.ts and laid out here, so ids and grid positions never collide.
// test/unit/chart-monitoring.test.ts fails when the committed file differs from this dashboard, and
// test/integration/prometheus-live.test.ts evaluates every query against a real Prometheus.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { ROWS } from './grafana-dashboard-panels.ts';
import { parseScriptArgs, type Script } from './script-args.ts';

const SCRIPT: Script = {
  name: 'grafana-dashboard',
  usage: `usage: node scripts/grafana-dashboard.ts [--check]

Writes charts/keystone-cache-invalidator/files/grafana-dashboard.json from the panels listed in
scripts/grafana-dashboard-panels.ts. Run it after changing them.

  --check     write nothing; exit 1 if the committed file holds another dashboard
  -h, --help  print this help`,
};

export const DASHBOARD_PATH = new URL(
  '../charts/keystone-cache-invalidator/files/grafana-dashboard.json',
  import.meta.url,
);

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax (the `datasource` variable)
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const WIDTH = 8;
const HEIGHT = 8;

/** Panels three to a line under each row; ids and positions follow the order of ROWS. */
function layout(): unknown[] {
  const out: unknown[] = [];
  let y = 0;
  for (const row of ROWS) {
    out.push({
      type: 'row',
      title: row.title,
      id: out.length + 1,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    y += 1;
    row.panels.forEach((p, i) => {
      const x = (i % 3) * WIDTH;
      if (i > 0 && x === 0) y += HEIGHT;
      out.push({
        type: 'timeseries',
        title: p.title,
        description: p.description,
        id: out.length + 1,
        datasource: DATASOURCE,
        gridPos: { h: HEIGHT, w: WIDTH, x, y },
        fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
        options: {
          legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
          tooltip: { mode: 'multi', sort: 'desc' },
        },
        targets: p.targets.map((target, k) => ({
          refId: String.fromCharCode(65 + k),
          datasource: DATASOURCE,
          expr: target.expr,
          legendFormat: target.legend,
        })),
      });
    });
    y += HEIGHT;
  }
  return out;
}

export function dashboard(): Record<string, unknown> {
  return {
    uid: 'kci-overview',
    title: 'keystone-cache-invalidator',
    description: 'Invalidations, memcached servers, purges, sources and the process (docs/runbook.md).',
    tags: ['openstack', 'keystone', 'memcached'],
    editable: true,
    schemaVersion: 39,
    time: { from: 'now-6h', to: 'now' },
    refresh: '1m',
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', hide: 0 },
        {
          name: 'job',
          label: 'Job',
          type: 'query',
          datasource: DATASOURCE,
          definition: 'label_values(kci_build_info, job)',
          query: { query: 'label_values(kci_build_info, job)', refId: 'job' },
          refresh: 2,
          includeAll: true,
          multi: true,
          allValue: '.*',
          sort: 1,
        },
      ],
    },
    panels: layout(),
  };
}

/** Whether the committed file holds this dashboard (its formatting is biome's, checked by the lint). */
export function dashboardIsCurrent(): boolean {
  return isDeepStrictEqual(JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')), dashboard());
}

if (import.meta.main) {
  const { values } = parseScriptArgs(SCRIPT, { options: { check: { type: 'boolean' } } });
  if (values.check) {
    if (!dashboardIsCurrent()) {
      console.error('grafana-dashboard.json is stale: run node scripts/grafana-dashboard.ts');
      process.exit(1);
    }
  } else {
    writeFileSync(DASHBOARD_PATH, JSON.stringify(dashboard(), null, 2));
    // The repository's formatter owns the layout of its JSON files, so `npm run lint` stays clean.
    const biome = fileURLToPath(new URL('../node_modules/.bin/biome', import.meta.url));
    execFileSync(biome, ['format', '--write', fileURLToPath(DASHBOARD_PATH)], { stdio: 'ignore' });
  }
}
