// Writes charts/keystone-cache-invalidator/values.schema.json: the chart's own values, plus `config`
// generated from the daemon's zod schema (src/config/schema.ts) so the two cannot drift apart. The
// fields the chart sets itself (the transport URL file, TLS file paths, http) are taken out of
// `config`. test/unit/chart.test.ts fails when the committed file differs from this output.
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema } from '../src/config/schema.ts';
import { parseScriptArgs, type Script } from './script-args.ts';

const SCRIPT: Script = {
  name: 'chart-schema',
  usage: `usage: node scripts/chart-schema.ts [--check]

Writes charts/keystone-cache-invalidator/values.schema.json: the chart's own values, plus \`config\`
generated from the daemon's zod schema (src/config/schema.ts). Run it after changing either.

  --check     write nothing; exit 1 if the committed file differs from what would be written
  -h, --help  print this help`,
};

export const SCHEMA_PATH = new URL(
  '../charts/keystone-cache-invalidator/values.schema.json',
  import.meta.url,
);

type Json = Record<string, unknown>;

const str = (extra: Json = {}): Json => ({ type: 'string', ...extra });
const bool: Json = { type: 'boolean' };
const int = (minimum: number, maximum?: number): Json => ({
  type: 'integer',
  minimum,
  ...(maximum === undefined ? {} : { maximum }),
});
const obj = (properties: Record<string, Json>, required: string[] = []): Json => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required.length > 0 ? { required } : {}),
});
/** A Kubernetes structure passed through as is (the API server validates it). */
const k8s = (type: 'object' | 'array', description: string): Json => ({ type, description });
const stringMap: Json = { type: 'object', additionalProperties: { type: 'string' } };

/** A Secret with TLS files, and which of its keys hold the CA, the client certificate, key and key passphrase. */
const tlsSecret = obj({
  existingSecret: str(),
  caKey: str(),
  certKey: str(),
  keyKey: str(),
  passphraseKey: str(),
});

/** The daemon's config schema without what the chart owns. */
function daemonConfig(): Json {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Json;
  delete schema.$schema;
  const props = schema.properties as Record<string, Json>;
  delete props.http;
  const amqpProps = (props.amqp as Json).properties as Record<string, Json>;
  const memcachedProps = (props.memcached as Json).properties as Record<string, Json>;
  const revocationProps = (props.revocations as Json).properties as Record<string, Json>;
  delete amqpProps.url;
  delete amqpProps.urlFile;
  delete revocationProps.applicationCredentialSecretFile;
  delete revocationProps.passwordFile;
  for (const section of [amqpProps.tls, memcachedProps.tls, revocationProps.tls]) {
    const tlsProps = (section as Json).properties as Record<string, Json>;
    for (const file of ['caFile', 'certFile', 'keyFile', 'keyPassphraseFile']) delete tlsProps[file];
  }
  // Site-specific values have no sensible default: empty passes the schema (so the default values
  // validate) and the templates refuse to render until they are set.
  const region = props.region as Json;
  region.pattern = '^([A-Za-z0-9._-]{1,64})?$';
  region.description = 'This region, as in the Keystone catalog; required (the templates fail without it)';
  const servers = memcachedProps.servers as Json;
  delete servers.minItems;
  servers.description = 'Every memcached server of the region; required (the templates fail without one)';
  schema.description =
    'The daemon configuration (docs/configuration.md) but amqp.url/urlFile, the revocation poller secret file, TLS file paths and http, which the chart sets.';
  return schema;
}

export function valuesSchema(): Json {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'keystone-cache-invalidator chart values',
    ...obj(
      {
        image: obj(
          {
            repository: str({ minLength: 1 }),
            tag: str(),
            digest: str({ pattern: '^(|sha256:[a-f0-9]{64})$' }),
            pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] },
          },
          ['repository'],
        ),
        imagePullSecrets: { type: 'array', items: obj({ name: str({ minLength: 1 }) }, ['name']) },
        replicaCount: int(1),
        declare: obj({ enabled: bool }),
        nameOverride: str(),
        fullnameOverride: str(),
        transportUrl: obj(
          {
            existingSecret: str({
              description: 'Secret holding the transport_url; required (the templates fail without it)',
            }),
            key: str({ minLength: 1 }),
          },
          ['existingSecret', 'key'],
        ),
        revocations: obj({
          existingSecret: str({
            description:
              "Secret holding the revocation poller's application credential secret (or its password); required when config.revocations.enabled",
          }),
          key: str({ minLength: 1 }),
        }),
        tls: obj({ amqp: tlsSecret, memcached: tlsSecret, keystone: tlsSecret }),
        config: daemonConfig(),
        service: obj({ port: int(1, 65535) }, ['port']),
        serviceAccount: obj({ create: bool, name: str(), annotations: stringMap }),
        podAnnotations: stringMap,
        podLabels: stringMap,
        priorityClassName: str(),
        podSecurityContext: k8s(
          'object',
          'PodSecurityContext; keep runAsUser and fsGroup unset for OpenShift restricted-v2',
        ),
        securityContext: k8s('object', 'SecurityContext of the container'),
        resources: k8s('object', 'ResourceRequirements'),
        terminationGracePeriodSeconds: int(1),
        probes: obj({
          liveness: obj({ periodSeconds: int(1), timeoutSeconds: int(1), failureThreshold: int(1) }),
          readiness: obj({ periodSeconds: int(1), timeoutSeconds: int(1), failureThreshold: int(1) }),
        }),
        podDisruptionBudget: obj({ enabled: bool, maxUnavailable: { type: ['integer', 'string'] } }),
        topologySpreadConstraints: k8s(
          'array',
          'TopologySpreadConstraint list; the chart adds the pod selector',
        ),
        nodeSelector: stringMap,
        tolerations: k8s('array', 'Toleration list'),
        affinity: k8s('object', 'Affinity'),
        networkPolicy: obj({
          enabled: bool,
          egress: obj({
            broker: k8s('array', 'NetworkPolicyPeer list for the central broker'),
            brokerPorts: { type: 'array', items: int(1, 65535) },
            memcached: k8s('array', "NetworkPolicyPeer list for the region's memcached"),
            memcachedPorts: { type: 'array', items: int(1, 65535) },
            keystone: k8s('array', 'NetworkPolicyPeer list for the central Keystone (the revocation poller)'),
            keystonePorts: { type: 'array', items: int(1, 65535) },
            dns: bool,
          }),
          ingressFrom: k8s('array', 'NetworkPolicyPeer list allowed to reach the HTTP port'),
        }),
        serviceMonitor: obj({ enabled: bool, interval: str(), scrapeTimeout: str(), labels: stringMap }),
        prometheusRule: obj({
          enabled: bool,
          runbookBaseUrl: str({
            pattern: '^[^\\s#]+$',
            description: "Base of each alert's runbook_url; the alert's anchor is appended after '#'",
          }),
          labels: stringMap,
        }),
        grafanaDashboard: obj({ enabled: bool, labels: stringMap, annotations: stringMap }),
      },
      ['image', 'transportUrl', 'config'],
    ),
  };
}

export function renderedSchema(): string {
  return `${JSON.stringify(valuesSchema(), null, 2)}\n`;
}

if (import.meta.main) {
  const { values } = parseScriptArgs(SCRIPT, { options: { check: { type: 'boolean' } } });
  const text = renderedSchema();
  if (values.check) {
    if (readFileSync(SCHEMA_PATH, 'utf8') !== text) {
      console.error('values.schema.json is stale: run node scripts/chart-schema.ts');
      process.exit(1);
    }
  } else {
    writeFileSync(SCHEMA_PATH, text);
  }
}
