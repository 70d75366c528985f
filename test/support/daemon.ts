import { Writable } from 'node:stream';
import { afterAll, beforeAll } from 'vitest';
import { type Config, parseConfig } from '../../src/config/load.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { TEST_QUEUE_ARGUMENTS } from './broker.ts';
import { SERVERS } from './memcached-probe.ts';
import { sample } from './metrics-text.ts';
import { waitFor } from './wait.ts';

export interface TestDaemon {
  readonly daemon: Daemon;
  readonly config: Config;
  readonly logLines: string[];
  /** A counter from /metrics, summed over its label sets (0 when absent). */
  metric(name: string, labels?: string): Promise<number>;
  /** Waits until the daemon has settled (acked or parked) `count` notifications in all. */
  settled(count: number): Promise<void>;
  ready(): Promise<boolean>;
  stop(): Promise<void>;
}

export interface TestConfigOptions {
  /** Extra YAML lines under `amqp:` (without indentation). */
  readonly amqp?: readonly string[];
  /** Pool queue arguments besides the tests' expiry safety net. */
  readonly queueArguments?: Readonly<Record<string, string | number | boolean>>;
  /** memcached servers, when not the two local ones. */
  readonly servers?: readonly string[];
  /** Extra YAML lines under `memcached:` (without indentation). */
  readonly memcached?: readonly string[];
  /** Extra top-level YAML. */
  readonly extra?: string;
  readonly url?: string;
}

/** Config text for a daemon on the local services, with quick retries for tests. */
export function testConfigYaml(pool: string, o: TestConfigOptions = {}): string {
  const servers = o.servers ?? SERVERS;
  return `region: test
amqp:
  url: ${o.url ?? 'rabbit://guest:guest@127.0.0.1:5672/'}
  pool: ${pool}
  queueArguments: ${JSON.stringify({ ...TEST_QUEUE_ARGUMENTS, ...o.queueArguments })}
  reconnect: { initialDelayMs: 50, maxDelayMs: 500 }
${(o.amqp ?? []).map((l) => `  ${l}\n`).join('')}memcached:
  servers: [${servers.map((s) => `"${s}"`).join(', ')}]
  requestTimeoutMs: 300
  retry: { initialDelayMs: 20, maxDelayMs: 200 }
${(o.memcached ?? []).map((l) => `  ${l}\n`).join('')}http: { host: 127.0.0.1, port: 0 }
shutdown: { graceMs: 2000 }
${o.extra ?? ''}`;
}

/** The real daemon, in this process, with its log lines captured. */
export async function startTestDaemon(yaml: string, options = { waitReady: true }): Promise<TestDaemon> {
  const config = parseConfig(yaml, 'test');
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const daemon = await startDaemon(config, createLogger('debug', { region: config.region }, sink), 'test');
  const base = `http://127.0.0.1:${daemon.httpAddress.port}`;
  const metric = async (name: string, labels = '') =>
    sample(await (await fetch(`${base}/metrics`)).text(), name, labels);
  const ready = async () => (await fetch(`${base}/readyz`)).status === 200;
  if (options.waitReady)
    await waitFor('the daemon to be ready', async () => ((await ready()) ? true : undefined));
  return {
    daemon,
    config,
    logLines,
    metric,
    ready,
    settled: async (count) => {
      await waitFor(`${count} settled notifications`, async () =>
        (await metric('kci_notifications_total')) >= count ? true : undefined,
      );
    },
    stop: () => daemon.stop(),
  };
}

/** A daemon for one describe block: started before its tests from `yaml`, stopped after them. */
export function useDaemon(yaml: string): () => TestDaemon {
  let daemon: TestDaemon | undefined;
  beforeAll(async () => {
    daemon = await startTestDaemon(yaml);
  });
  afterAll(async () => {
    await daemon?.stop();
  });
  return () => {
    if (!daemon) throw new Error('useDaemon: the daemon is only available inside tests');
    return daemon;
  };
}
