import { execFile } from 'node:child_process';
import { chmodSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { tempDir } from './temp-dirs.ts';
import { freePort } from './tls.ts';

const run = promisify(execFile);
const RABBITMQ_SERVER = '/usr/sbin/rabbitmq-server';
const RABBITMQCTL = '/usr/sbin/rabbitmqctl';
/** Private nodes are named `kci-test-<pid of the test process>-<random>`: a sweep can tell orphans. */
const NODE_PREFIX = 'kci-test-';
/** Their data folders are `kci-rabbitmq-<pid of the test process>-<random>` in the temporary directory. */
const DIR_PREFIX = 'kci-rabbitmq-';

/**
 * A RabbitMQ node of a test's own, on ports of its own, with its own data under a temporary folder.
 * Tests that stop the broker use one: stopping the machine's shared broker would delete every
 * non-durable queue anyone had declared on it (the suite must leave that broker as it found it).
 */
export interface PrivateBroker {
  readonly node: string;
  readonly port: number;
  /** amqp://guest:guest@127.0.0.1:<port>/ */
  readonly url: string;
  /** `rabbitmqctl -n <node> …args`; resolves to its standard output. */
  ctl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export interface PrivateBrokerOptions {
  /**
   * Erlang schedulers (`+S`): one per node keeps three nodes of a cluster from crowding out the rest
   * of a small machine. Unset: the VM's default, one per core.
   */
  readonly schedulers?: number;
}

export async function startPrivateBroker(options: PrivateBrokerOptions = {}): Promise<PrivateBroker> {
  const dir = tempDir(`${DIR_PREFIX}${process.pid}`);
  // The node runs as the rabbitmq user (the Debian wrapper switches to it) and writes its data here.
  chmodSync(dir, 0o777);
  const [port, distPort] = [await freePort(), await freePort()];
  const node = `${NODE_PREFIX}${process.pid}-${Math.random().toString(36).slice(2, 8)}@localhost`;
  writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${port}\n`, { mode: 0o644 });
  // AMQP 1.0 too, as scripts/local-services.sh enables it on the shared broker.
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_amqp1_0].\n', { mode: 0o644 });
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'pid'),
    ...(options.schedulers === undefined
      ? {}
      : { RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: `+S ${options.schedulers}:${options.schedulers}` }),
  };
  const ctl = async (...args: string[]) =>
    (await run(RABBITMQCTL, ['-n', node, ...args], { encoding: 'utf8', timeout: 60_000 })).stdout;
  await run(RABBITMQ_SERVER, ['-detached'], { env, timeout: 60_000 });
  const broker: PrivateBroker = {
    node,
    port,
    url: `amqp://guest:guest@127.0.0.1:${port}/`,
    ctl,
    async stop() {
      await ctl('stop').catch(() => {});
    },
  };
  // -detached returns before the node has registered with epmd: await_startup fails until it has.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await ctl('await_startup', '--timeout', '60');
      return broker;
    } catch (error) {
      if (Date.now() > deadline) {
        await broker.stop();
        throw new Error(`private RabbitMQ node ${node} did not start: ${(error as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/** A private broker for one describe block: started before its tests, stopped after them. */
export function usePrivateBroker(): () => PrivateBroker {
  let broker: PrivateBroker | undefined;
  beforeAll(async () => {
    broker = await startPrivateBroker();
  }, 90_000);
  afterAll(async () => {
    await broker?.stop();
  });
  return () => {
    if (!broker) throw new Error('usePrivateBroker: the broker is only available inside tests');
    return broker;
  };
}

/**
 * Stops the private nodes whose test process is gone (killed before its afterAll ran) and removes their
 * data. epmd lists the nodes of this machine; the pid in a node's name tells whether its owner runs.
 */
export async function stopOrphanedPrivateBrokers(): Promise<string[]> {
  const { stdout } = await run('epmd', ['-names'], { encoding: 'utf8' }).catch(() => ({ stdout: '' }));
  const orphans = [...stdout.matchAll(/^name (kci-test-(\d+)-\w+) at port/gm)]
    .filter(([, , pid]) => !isAlive(Number(pid)))
    .map(([, name]) => `${name}@localhost`);
  for (const node of orphans)
    await run(RABBITMQCTL, ['-n', node, 'stop'], { timeout: 60_000 }).catch(() => {});
  for (const name of readdirSync(tmpdir())) {
    const owner = /^kci-rabbitmq-(\d+)-/.exec(name)?.[1];
    if (owner !== undefined && !isAlive(Number(owner)))
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
  return orphans;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
