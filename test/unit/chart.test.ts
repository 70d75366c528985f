import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument, stringify } from 'yaml';
import { renderedSchema } from '../../scripts/chart-schema.ts';
import { parseConfig } from '../../src/config/load.ts';
import { tempDir } from '../support/temp-dirs.ts';

// helm is not installable here: these tests validate values against values.schema.json (which Helm
// enforces on install, on the defaults merged with the user's values) and lint the chart's YAML.
// Where helm exists: `helm lint charts/keystone-cache-invalidator -f …/examples/minimal.yaml` and
// `helm template` (docs/deployment.md).
const CHART = new URL('../../charts/keystone-cache-invalidator/', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(CHART, path), 'utf8');
const defaults = parse(read('values.yaml')) as Record<string, unknown>;
const examples = readdirSync(join(CHART, 'examples')).filter((f) => f.endsWith('.yaml'));
const validate = new Ajv2020({ strict: false, allErrors: true }).compile(
  JSON.parse(read('values.schema.json')),
);

/** Helm's coalescing: user values over the chart's defaults, maps merged, everything else replaced. */
function coalesce(base: unknown, over: unknown): unknown {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = coalesce(base[k], v);
  return out;
}
const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function errors(values: unknown): string[] {
  return validate(values) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

describe('the Helm chart', () => {
  it('values.schema.json is generated from the daemon config schema and up to date', () => {
    expect(read('values.schema.json')).toBe(renderedSchema());
  });

  it('refuses unknown keys at every level it owns', () => {
    const schema = JSON.parse(read('values.schema.json'));
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.config.additionalProperties).toBe(false);
    expect(schema.properties.config.properties.markers.additionalProperties).toBe(false);
  });

  it('the default values validate', () => {
    expect(errors(defaults)).toEqual([]);
  });

  it.each(examples)('examples/%s validates over the defaults', (file) => {
    expect(errors(coalesce(defaults, parse(read(`examples/${file}`))))).toEqual([]);
  });

  it.each(examples)('examples/%s renders a config the daemon accepts', (file) => {
    // What templates/_helpers.tpl (kci.config) adds: the transport URL file, the revocation poller's
    // secret file (when it is on) and the HTTP listener.
    const values = coalesce(defaults, parse(read(`examples/${file}`))) as { config: Record<string, unknown> };
    const dir = tempDir('kci-chart');
    const urlFile = join(dir, 'url');
    writeFileSync(urlFile, 'rabbit://kci:secret@rmq-0.central:5671/?ssl=1');
    writeFileSync(join(dir, 'secret'), 'poller-secret');
    const revocations = values.config.revocations as Record<string, unknown>;
    const secretField =
      'applicationCredentialId' in revocations ? 'applicationCredentialSecretFile' : 'passwordFile';
    const config = {
      ...values.config,
      amqp: { ...(values.config.amqp as object), urlFile },
      revocations: revocations.enabled ? { ...revocations, [secretField]: join(dir, 'secret') } : revocations,
      http: { host: '0.0.0.0', port: 9464 },
    };
    expect(() => parseConfig(stringify(config), file)).not.toThrow();
  });

  it.each([
    ['an unknown top-level key', { replicas: 2 }, 'must NOT have additional properties'],
    [
      'an unknown config field',
      { config: { markers: { ttl: 60 } } },
      '/config/markers must NOT have additional properties',
    ],
    [
      'a credential in the ConfigMap',
      { config: { amqp: { url: 'rabbit://u:p@h/' } } },
      '/config/amqp must NOT have additional properties',
    ],
    [
      'a TTL memcached would read as a date',
      { config: { markers: { ttlSeconds: 2_592_001 } } },
      '/config/markers/ttlSeconds must be <= 2592000',
    ],
    ['a replica count as a string', { replicaCount: '2' }, '/replicaCount must be integer'],
    ['a digest that is not sha256', { image: { digest: 'latest' } }, '/image/digest must match pattern'],
    [
      'a runbook base with its own anchor',
      { prometheusRule: { runbookBaseUrl: 'https://docs.example.org/runbook.html#alarms' } },
      '/prometheusRule/runbookBaseUrl must match pattern',
    ],
    [
      'an unknown PrometheusRule field',
      { prometheusRule: { enable: true } },
      '/prometheusRule must NOT have additional properties',
    ],
    [
      'a dashboard label that is not a string',
      { grafanaDashboard: { labels: { grafana_dashboard: 1 } } },
      '/grafanaDashboard/labels/grafana_dashboard must be string',
    ],
    [
      'an unknown marker mode',
      { config: { markers: { mode: 'some' } } },
      '/config/markers/mode must be equal to one of the allowed values',
    ],
  ])('rejects %s', (_what, override, message) => {
    const values = coalesce(coalesce(defaults, parse(read('examples/minimal.yaml'))), override);
    expect(errors(values).join('\n')).toContain(message);
  });

  it('its YAML files parse strictly, and no chart file holds a tab or trailing blanks', () => {
    for (const file of [
      'Chart.yaml',
      'values.yaml',
      'files/prometheus-rules.yaml',
      ...examples.map((f) => `examples/${f}`),
    ]) {
      const doc = parseDocument(read(file), { uniqueKeys: true, prettyErrors: false });
      expect([...doc.errors, ...doc.warnings].map((e) => `${file}: ${e.message}`)).toEqual([]);
    }
    const files = [
      'Chart.yaml',
      'values.yaml',
      'README.md',
      ...readdirSync(join(CHART, 'templates')).map((f) => `templates/${f}`),
      ...readdirSync(join(CHART, 'files')).map((f) => `files/${f}`),
    ];
    for (const file of files) {
      const lines = read(file).split('\n');
      expect(lines.filter((l) => /\t|[ ]+$/.test(l)).map((l) => `${file}: ${JSON.stringify(l)}`)).toEqual([]);
    }
    const chart = parse(read('Chart.yaml'));
    expect(chart).toMatchObject({
      apiVersion: 'v2',
      name: 'keystone-cache-invalidator',
      type: 'application',
    });
    expect(chart.appVersion).toBe(
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version,
    );
  });

  it('sets no runAsUser or fsGroup anywhere (OpenShift restricted-v2 assigns them)', () => {
    const everything = [
      read('values.yaml'),
      ...readdirSync(join(CHART, 'templates')).map((f) => read(`templates/${f}`)),
    ];
    for (const text of everything) expect(text).not.toMatch(/^\s*(runAsUser|fsGroup):/m);
    expect(defaults).toMatchObject({
      podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      securityContext: {
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      },
      podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
    });
  });

  it('the README documents every top-level value', () => {
    const readme = read('README.md');
    for (const key of Object.keys(defaults)) expect(readme, key).toContain(`\`${key}`);
  });
});
