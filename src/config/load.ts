import { readFileSync } from 'node:fs';
import { type Alias, type Document, LineCounter, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { errorMessage } from '../util/errors.ts';
import { plaintextRefusals } from './endpoint-security.ts';
import { applyEnvOverrides } from './env-overrides.ts';
import { type KeystoneCredentials, keystoneCredentials } from './keystone-credentials.ts';
import { type MemcachedServer, parseMemcachedServer } from './memcached-servers.ts';
import { type ConfigFile, configSchema } from './schema.ts';
import { readSecretFile } from './secret-file.ts';
import { amqpProtocol, parseTransportUrl, type TransportUrl } from './transport-url.ts';

/** The validated configuration, with the broker URL read and parsed and the server list parsed. */
export type Config = Omit<ConfigFile, 'amqp' | 'memcached' | 'revocations'> & {
  readonly amqp: Omit<ConfigFile['amqp'], 'url' | 'urlFile' | 'pool' | 'protocol'> & {
    readonly pool: string;
    readonly transport: TransportUrl;
    /** `auto` resolved from the URL's scheme. */
    readonly protocol: '0-9-1' | '1.0';
  };
  readonly memcached: Omit<ConfigFile['memcached'], 'servers'> & {
    readonly servers: readonly MemcachedServer[];
  };
  readonly revocations: Omit<
    ConfigFile['revocations'],
    'applicationCredentialSecretFile' | 'passwordFile'
  > & {
    /** Null when the poller is off. */
    readonly credentials: KeystoneCredentials | null;
  };
};

/** Every problem found, each naming the field path; messages never contain a configured value. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super(`invalid configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(path, [
      `cannot read the config file: ${(cause as NodeJS.ErrnoException).code ?? cause}`,
    ]);
  }
  return parseConfig(text, path, env);
}

export function parseConfig(text: string, source: string, env: NodeJS.ProcessEnv = {}): Config {
  const raw = applyEnvOverrides(parseYaml(text, source), env);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(source, parsed.error.issues.map(describeIssue));
  return resolve(parsed.data, source);
}

// The yaml library quotes the offending source line in its messages; that line may hold a password,
// so only the position, the error code and what to do are reported.
function parseYaml(text: string, source: string): Record<string, unknown> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const first = doc.errors[0];
  if (first) {
    throw new ConfigError(source, [
      `${at(source, lines, first.pos[0])}: not valid YAML (${first.code}); fix the syntax there`,
    ]);
  }
  const value = yamlValue(doc, source, lines);
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(source, ['the file must hold a YAML mapping (region:, amqp:, memcached:, …)']);
  }
  return value as Record<string, unknown>;
}

/** Aliases expanded past this are an alias bomb (a configuration needs a handful, if any). */
const MAX_ALIAS_EXPANSIONS = 100;

/** The document's value; its aliases resolve only here, so their errors are mapped here. */
function yamlValue(doc: Document, source: string, lines: LineCounter): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS });
  } catch {
    let unresolved: Alias | undefined;
    let firstAlias: Alias | undefined;
    visit(doc, {
      Alias(_, alias) {
        firstAlias ??= alias;
        if (alias.resolve(doc) === undefined) {
          unresolved = alias;
          return visit.BREAK;
        }
        return undefined;
      },
    });
    const problem = unresolved
      ? `${at(source, lines, unresolved.range?.[0])}: this alias names no anchor defined before it; define the anchor (&name) first, or write the value out`
      : `${at(source, lines, firstAlias?.range?.[0])}: aliases expand to more than ${MAX_ALIAS_EXPANSIONS} nodes; write the values out instead of nesting aliases`;
    throw new ConfigError(source, [problem]);
  }
}

/** `file:line:column` of an offset, as editors and compilers print it. */
function at(source: string, lines: LineCounter, offset: number | undefined): string {
  if (offset === undefined) return source;
  const { line, col } = lines.linePos(offset);
  return `${source}:${line}:${col}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    // A key is echoed only when it looks like a field name: `{url:rabbit://u:pw@h/}` (no space after
    // the colon) makes the whole URL, password included, a key.
    const keys = issue.keys
      .map((k) => (/^[A-Za-z0-9_-]{1,40}$/.test(k) ? `"${k}"` : '(a name not shown)'))
      .join(', ');
    return `${path}: unknown field ${keys}; check the spelling against docs/configuration.md`;
  }
  // zod does not keep the input (it could be a secret); its message says when there was none.
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) {
    return `${path}: required, expected ${issue.expected}`;
  }
  return `${path}: ${issue.message}`;
}

function resolve(file: ConfigFile, source: string): Config {
  const problems: string[] = [];
  const { url, urlFile, pool, ...amqp } = file.amqp;
  let transport: TransportUrl | null = null;
  const field = urlFile === undefined ? 'amqp.url' : 'amqp.urlFile';
  try {
    const text = urlFile === undefined ? (url as string) : readSecretFile(urlFile).trim();
    transport = parseTransportUrl(text);
  } catch (cause) {
    problems.push(`${field}: ${errorMessage(cause)}`);
  }
  const servers: MemcachedServer[] = [];
  file.memcached.servers.forEach((entry, i) => {
    try {
      servers.push(parseMemcachedServer(entry));
    } catch (cause) {
      problems.push(`memcached.servers.${i}: ${errorMessage(cause)}`);
    }
  });
  const { applicationCredentialSecretFile: _s, passwordFile: _p, ...revocations } = file.revocations;
  let credentials: KeystoneCredentials | null = null;
  try {
    credentials = keystoneCredentials(file.revocations, (field, path) => {
      let secret: string;
      try {
        secret = readSecretFile(path).trim();
      } catch (cause) {
        throw new Error(`${field}: ${errorMessage(cause)}`);
      }
      if (secret === '') throw new Error(`${field}: the file is empty`);
      return secret;
    });
  } catch (cause) {
    problems.push(errorMessage(cause));
  }
  if (problems.length > 0 || transport === null) throw new ConfigError(source, problems);
  const config: Config = {
    ...file,
    amqp: {
      ...amqp,
      pool: pool ?? `keystone-cache-invalidator-${file.region}`,
      transport,
      protocol: amqpProtocol(transport, amqp.protocol),
    },
    memcached: { ...file.memcached, servers },
    revocations: { ...revocations, credentials },
  };
  // A third round: which hosts are off loopback is known only once the URL and servers are parsed.
  const refused = plaintextRefusals(config);
  if (refused.length > 0) throw new ConfigError(source, refused);
  return config;
}
