import { afterAll, beforeAll } from 'vitest';
import { type PrivateBroker, startPrivateBroker } from './private-broker.ts';

/**
 * A RabbitMQ cluster of the test's own: private nodes (test/support/private-broker.ts: own node names,
 * ports and data folders, so the globalSetup's orphan sweep stops them too), joined to the first. They
 * share one Erlang cookie, the rabbitmq user's: the Debian wrapper runs every node, and rabbitmqctl, as
 * that user, which is also how the CLI reaches each of them.
 */
export interface RabbitCluster {
  readonly nodes: readonly PrivateBroker[];
  /** The oslo transport_url listing every node: rabbit://guest:guest@127.0.0.1:P1,…/ */
  readonly transportUrl: string;
  /** The node a connection whose client properties contain `match` is on (undefined: none). */
  nodeOfConnection(match: string): Promise<PrivateBroker | undefined>;
  /** The node leading quorum queue `queue` (vhost `/`; undefined while there is none). */
  leaderOf(queue: string): Promise<PrivateBroker | undefined>;
  /** `rabbitmqctl` on a node that is up. */
  ctl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** One scheduler per node: three Erlang VMs on a two-core machine shared with other work. */
const SCHEDULERS = 1;

export async function startRabbitCluster(size = 3): Promise<RabbitCluster> {
  const started = await Promise.allSettled(
    Array.from({ length: size }, () => startPrivateBroker({ schedulers: SCHEDULERS })),
  );
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const [first, ...others] = nodes as [PrivateBroker, ...PrivateBroker[]];
    // One at a time: the first node's schema is changed by each join.
    for (const node of others) {
      await node.ctl('stop_app');
      await node.ctl('join_cluster', first.node);
      await node.ctl('start_app');
    }
    const running = await first.ctl('eval', 'length(rabbit_nodes:all_running()).');
    if (Number(running.trim()) !== size) throw new Error(`the cluster has ${running.trim()} running nodes`);
  } catch (error) {
    await stop();
    throw error;
  }
  const byName = (name: string | undefined) => nodes.find((n) => n.node === name);
  /** rabbitmqctl on the first node that answers: a test stops nodes. */
  const ctl = async (...args: string[]) => {
    let last: unknown;
    for (const node of nodes) {
      try {
        return await node.ctl(...args);
      } catch (error) {
        last = error;
      }
    }
    throw last;
  };
  return {
    nodes,
    transportUrl: `rabbit://${nodes.map((n) => `guest:guest@127.0.0.1:${n.port}`).join(',')}/`,
    ctl,
    async nodeOfConnection(match) {
      // A connection's pid names its node: <kci-test-…@localhost.1700000000.123.0>.
      const rows = await ctl('list_connections', 'pid', 'client_properties', '-q', '--no-table-headers');
      const pid =
        rows
          .split('\n')
          .find((line) => line.includes(match))
          ?.split('\t')[0] ?? '';
      return byName(/^<(.+?)\.\d+\.\d+\.\d+>$/.exec(pid)?.[1]);
    },
    async leaderOf(queue) {
      const rows = await ctl('list_queues', '-p', '/', 'name', 'leader', '-q', '--no-table-headers');
      const row = rows.split('\n').find((line) => line.split('\t')[0] === queue);
      return byName(row?.split('\t')[1]?.trim());
    },
    stop,
  };
}

/** A cluster for one describe block: started before its tests, every node stopped after them. */
export function useRabbitCluster(size = 3): () => RabbitCluster {
  let cluster: RabbitCluster | undefined;
  beforeAll(async () => {
    cluster = await startRabbitCluster(size);
  }, 150_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);
  return () => {
    if (!cluster) throw new Error('useRabbitCluster: the cluster is only available inside tests');
    return cluster;
  };
}
