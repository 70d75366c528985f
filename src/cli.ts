import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { declarePool } from './adapters/amqp091/declare.ts';
import { memcachedServers } from './adapters/memcached/servers.ts';
import { invalidate } from './cli/invalidate.ts';
import { formatMarkers, readMarkers } from './cli/markers.ts';
import { parseScope } from './cli/scope.ts';
import { describeInsecure, insecureEndpoints } from './config/endpoint-security.ts';
import { type Config, ConfigError, loadConfig } from './config/load.ts';
import { serverName } from './config/memcached-servers.ts';
import { tlsFileProblems } from './config/tls-check.ts';
import { describeBroker } from './config/transport-url.ts';
import { GLOBAL, type Target } from './core/targets.ts';
import { startDaemon } from './main.ts';
import { createLogger } from './observability/logger.ts';
import type { CacheServer } from './ports/cache-server.ts';
import { errorMessage } from './util/errors.ts';

const USAGE = `Usage: keystone-cache-invalidator <command> [--config PATH] [options]

Commands:
  run            consume Keystone notifications and write invalidation markers (the daemon)
  check-config   validate the configuration without connecting to anything
  invalidate     break-glass: apply the configured actions for --scope on every memcached server now,
                 without the broker; writes an audit line to stderr; exit 1 if a server missed it
  markers        show each marker on each server with its age (every marker, or those of --scope)
  declare        declare the pool queue, its bindings and the parking queue on the broker, as the
                 AMQP 0-9-1 source does on every connect (over AMQP 0-9-1); the AMQP 1.0 source
                 declares nothing. A pool queue that did not exist is a gap: everything is invalidated
                 first, as the daemon does

Options:
  -c, --config PATH   YAML configuration (default: $KCI_CONFIG)
  -s, --scope SCOPE   global, or KIND=ID with KIND one of user, project, domain, role, trust, app-cred;
                      repeat for several (invalidate needs at least one)
  -n, --dry-run       invalidate: print what would be done, change nothing (still audited)
      --json          markers: one JSON object per line
  -v, --version       print the version
  -h, --help          print this help

Examples:
  keystone-cache-invalidator invalidate -c /etc/kci/config.yaml --scope user=3f2a… --dry-run
  keystone-cache-invalidator invalidate -c /etc/kci/config.yaml --scope global
  keystone-cache-invalidator markers -c /etc/kci/config.yaml --scope project=9c1e…

Environment overrides and every field: docs/configuration.md`;

/** The command line of `keystone-cache-invalidator`. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration. */
export async function runCommandLine(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(`${errorMessage(error)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) return print(version());
  if (values.help) return print(USAGE);
  const command = positionals[0];
  if (!COMMANDS.has(command ?? '')) {
    console.error(command === undefined ? USAGE : `unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  const path = values.config ?? process.env.KCI_CONFIG;
  if (!path) {
    console.error('no configuration: pass --config PATH or set KCI_CONFIG (see config/example.yaml)');
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig(path);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  if (command === 'check-config') {
    const unreadable = tlsFileProblems(config);
    if (unreadable.length > 0) {
      console.error(
        `${path}: the TLS files cannot be used:\n${unreadable.map((p) => `  - ${p}`).join('\n')}`,
      );
      return 2;
    }
    return print(summary(config));
  }
  if (command === 'run') return run(config);
  if (command === 'declare') return withServers(config, (servers) => declare(config, servers));
  let scopes: Target[];
  try {
    scopes = (values.scope ?? []).map(parseScope);
  } catch (error) {
    console.error(errorMessage(error));
    return 2;
  }
  if (command === 'invalidate' && scopes.length === 0) {
    console.error('invalidate needs at least one --scope (global, or KIND=ID)');
    return 2;
  }
  return withServers(config, async (servers) => {
    if (command === 'markers') {
      const rows = await readMarkers(config, servers, scopes, Date.now());
      print(values.json ? rows.map((r) => JSON.stringify(r)).join('\n') : formatMarkers(rows));
      return rows.some((r) => r.error !== undefined) ? 1 : 0;
    }
    const audit = createLogger('info', { region: config.region, component: 'cli' }, process.stderr);
    const options = { scopes, dryRun: values['dry-run'] ?? false };
    return invalidate(config, servers, options, audit, (line) => console.log(line));
  });
}

/** The configured memcached servers for one command, closed when it is done. */
async function withServers<T>(
  config: Config,
  use: (servers: readonly CacheServer[]) => Promise<T>,
): Promise<T> {
  const servers = memcachedServers(config);
  try {
    return await use(servers);
  } finally {
    for (const server of servers) server.close();
  }
}

const COMMANDS = new Set(['run', 'check-config', 'invalidate', 'markers', 'declare']);

/** The broker topology for the AMQP 1.0 source (or ahead of a 0-9-1 daemon); exit 1 if it failed. */
async function declare(config: Config, servers: readonly CacheServer[]): Promise<number> {
  const audit = createLogger('info', { region: config.region, component: 'cli' }, process.stderr);
  const fillGap = async () => {
    console.log(`the pool queue ${config.amqp.pool} does not exist: notifications may have been missed`);
    const options = { scopes: [GLOBAL], dryRun: false };
    if ((await invalidate(config, servers, options, audit, (line) => console.log(line))) !== 0) {
      throw new Error('the gap was not filled on every memcached server: nothing was declared');
    }
  };
  try {
    const { broker, created } = await declarePool(config.amqp, fillGap);
    console.log(`declared ${config.amqp.pool}${created ? '' : ' (it existed)'} on ${broker}`);
    return 0;
  } catch (error) {
    console.error(`declare failed: ${errorMessage(error)}`);
    return 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      scope: { type: 'string', short: 's', multiple: true },
      'dry-run': { type: 'boolean', short: 'n' },
      json: { type: 'boolean' },
      version: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

async function run(config: Config): Promise<number> {
  const logger = createLogger(config.log.level, { region: config.region });
  const { ignoredOptions, otherIgnoredOptions } = config.amqp.transport;
  for (const option of ignoredOptions) {
    logger.warn({ option }, 'transport_url query option is not used by this daemon');
  }
  if (otherIgnoredOptions > 0) {
    logger.warn({ count: otherIgnoredOptions }, 'transport_url query options are not used by this daemon');
  }
  const daemon = await startDaemon(config, logger, version());
  return new Promise((resolve) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      daemon.stop().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error({ error: errorMessage(error) }, 'unclean shutdown');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}

function summary(config: Config): string {
  const { transport } = config.amqp;
  return [
    `configuration OK`,
    `  region:    ${config.region}`,
    `  brokers:   ${transport.hosts.map((h) => describeBroker(h, transport.vhost, transport.tls)).join(', ')}`,
    `  exchange:  ${config.amqp.exchange} (${config.amqp.topics.map((t) => `${t}.info`).join(', ')})`,
    `  protocol:  AMQP ${config.amqp.protocol}${config.amqp.protocol === '1.0' ? ` from ${config.amqp.sourceAddress ?? 'the pool queue'}` : ''}`,
    `  pool:      ${config.amqp.pool}`,
    `  memcached: ${config.memcached.servers.map(serverName).join(', ')}`,
    `  markers:   ${config.markers.prefix}:v1:* mode=${config.markers.mode} ttl=${config.markers.ttlSeconds}s`,
    ...transport.ignoredOptions.map(
      (o) => `  warning:   transport_url option "${o}" is not used by this daemon`,
    ),
    ...(transport.otherIgnoredOptions > 0
      ? [
          `  warning:   ${transport.otherIgnoredOptions} more transport_url options are not used by this daemon`,
        ]
      : []),
    ...insecureEndpoints(config).map((e) => `  warning:   ${describeInsecure(e)}`),
  ].join('\n');
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function print(text: string): number {
  console.log(text);
  return 0;
}
