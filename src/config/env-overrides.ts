/**
 * Environment variables that override single config fields (after the file is read, before validation).
 * docs/configuration.md lists the same table; a test keeps the two in step.
 */
export interface EnvOverride {
  readonly name: string;
  readonly path: readonly string[];
  readonly type: 'string' | 'number' | 'list';
}

export const ENV_OVERRIDES: readonly EnvOverride[] = [
  { name: 'KCI_REGION', path: ['region'], type: 'string' },
  { name: 'KCI_AMQP_URL', path: ['amqp', 'url'], type: 'string' },
  { name: 'KCI_AMQP_URL_FILE', path: ['amqp', 'urlFile'], type: 'string' },
  { name: 'KCI_AMQP_POOL', path: ['amqp', 'pool'], type: 'string' },
  { name: 'KCI_MEMCACHED_SERVERS', path: ['memcached', 'servers'], type: 'list' },
  { name: 'KCI_MARKERS_MODE', path: ['markers', 'mode'], type: 'string' },
  { name: 'KCI_HTTP_PORT', path: ['http', 'port'], type: 'number' },
  { name: 'KCI_LOG_LEVEL', path: ['log', 'level'], type: 'string' },
];

// Setting one of url/urlFile from the environment replaces the other from the file.
const EXCLUSIVE: Readonly<Record<string, string>> = { KCI_AMQP_URL: 'urlFile', KCI_AMQP_URL_FILE: 'url' };

export function applyEnvOverrides(
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): Record<string, unknown> {
  const out = structuredClone(raw);
  for (const o of ENV_OVERRIDES) {
    const value = env[o.name];
    if (value === undefined || value === '') continue;
    const parent = ensurePath(out, o.path.slice(0, -1));
    const leaf = o.path[o.path.length - 1] as string;
    parent[leaf] = convert(value, o.type);
    const other = EXCLUSIVE[o.name];
    if (other !== undefined) delete parent[other];
  }
  return out;
}

function convert(value: string, type: EnvOverride['type']): unknown {
  if (type === 'list')
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  // A non-numeric value stays a string so validation reports it against the field.
  if (type === 'number') return /^\d+$/.test(value) ? Number(value) : value;
  return value;
}

function ensurePath(root: Record<string, unknown>, path: readonly string[]): Record<string, unknown> {
  let node = root;
  for (const key of path) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  return node;
}
