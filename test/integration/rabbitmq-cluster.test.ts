import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { poolQueueArguments, topologyOptions } from '../../src/adapters/amqp091/topology.ts';
import { parseConfig } from '../../src/config/load.ts';
import { ConfirmedPublisher } from '../support/confirmed-publisher.ts';
import { startTestDaemon, testConfigYaml } from '../support/daemon.ts';
import { get, keys } from '../support/memcached-probe.ts';
import { restartableMemcached } from '../support/memcached-process.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import type { PrivateBroker } from '../support/private-broker.ts';
import { useRabbitCluster } from '../support/rabbitmq-cluster.ts';
import { closeConnections } from '../support/rabbitmqctl.ts';
import { runName } from '../support/run-name.ts';
import { waitFor } from '../support/wait.ts';

// The engine users run: a three-node RabbitMQ cluster (nodes of the test's own, the shared broker is
// never touched) and the pool queue a quorum queue. Notifications flow, each for a user of its own,
// while the node the daemon is connected to stops, and then the node leading the queue.
const EVENTS = 5_000;
const BATCH = 20;
const PACE_MS = 60;
const NAME = runName('kci-test-cluster');
/** The daemon's connection, as the broker lists it (region `test`, this process). */
const CONNECTION = `keystone-cache-invalidator:test:${process.pid}`;
/** A failover slower than this fails the test (measured: a few seconds; see docs/reliability.md). */
const RESUME_LIMIT_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const run = promisify(execFile);

interface Failover {
  readonly fault: string;
  readonly stopped: string;
  /** How long `rabbitmqctl stop_app` took: the node is down once it returns. */
  readonly stopMs: number;
  /**
   * From `stop_app` issued to the marker of the first notification whose publish began after it
   * returned: an upper bound of the outage as Keystone's side and the region see it.
   */
  readonly resumeMs: number;
  /** Where the daemon consumed, and which node led the queue, once the flow was back. */
  readonly daemonOn: string | undefined;
  readonly leader: string | undefined;
}

describe('a three-node RabbitMQ cluster and a quorum pool queue', () => {
  const cluster = useRabbitCluster(3);

  it('declares the pool queue with the arguments oslo declares for rabbit_quorum_queue', async () => {
    // Debian's python3-oslo.messaging imports only under /usr/bin/python3.
    const script = [
      'import json',
      'from oslo_messaging._drivers import impl_rabbit as r',
      'print(json.dumps(r._get_queue_arguments(False, 0, True, r.QuorumMemConfig(7, 1000, 65536))))',
    ].join('\n');
    const { stdout } = await run('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
    const config = parseConfig(
      testConfigYaml(NAME, {
        amqp: [
          'durable: true',
          'queueType: quorum',
          'quorum: { deliveryLimit: 7, maxMemoryLength: 1000, maxMemoryBytes: 65536 }',
        ],
      }),
      'test',
    );
    const ours = poolQueueArguments({ ...topologyOptions(config.amqp), queueArguments: {} });
    expect(ours).toEqual(JSON.parse(stdout));
  });

  it('fails over from the stopped node and from the stopped queue leader, losing nothing', async () => {
    const c = cluster();
    const began = Date.now();
    const servers = [await restartableMemcached(), await restartableMemcached()] as const;
    const yaml = testConfigYaml(NAME, {
      url: c.transportUrl,
      servers: servers.map((s) => s.address),
      amqp: [
        'durable: true',
        'queueType: quorum',
        `exchange: ${NAME}`,
        `deadLetterExchange: ${NAME}.dlx`,
        'heartbeatSeconds: 2',
        'connectTimeoutMs: 2000',
      ],
      memcached: ['probeIntervalMs: 500'],
    });
    const d = await startTestDaemon(yaml);
    const publisher = new ConfirmedPublisher(
      c.nodes.map((n) => n.url),
      NAME,
    );
    const users: string[] = [];
    const batches: Array<{ readonly first: string; readonly startedAt: number }> = [];
    let faultsDone = false;
    let abandoned = false;
    const publishing = (async () => {
      while (!abandoned && (!faultsDone || users.length < EVENTS)) {
        const part = Array.from({ length: BATCH }, () => randomBytes(12).toString('hex'));
        const startedAt = Date.now();
        await publisher.publish(
          part.map((u) => osloV2Body('identity.user.updated', { resource_info: u })),
          BATCH,
        );
        users.push(...part);
        batches.push({ first: part[0] as string, startedAt });
        await sleep(PACE_MS);
      }
    })();

    /** The daemon's node and the queue's leader, moving the daemon off the leader when they are one. */
    const apart = () =>
      waitFor(
        'the daemon on a node that does not lead the queue',
        async () => {
          const [connected, leader] = [await c.nodeOfConnection(CONNECTION), await c.leaderOf(NAME)];
          if (connected === undefined || leader === undefined) return undefined;
          if (connected !== leader) return { connected, leader };
          await closeConnections(CONNECTION, { node: connected.node, reason: 'moved off the leader' });
          await sleep(1_000);
          return undefined;
        },
        60_000,
      );

    const failover = async (
      fault: string,
      pick: (n: { connected: PrivateBroker; leader: PrivateBroker }) => PrivateBroker,
    ): Promise<Failover> => {
      const placed = await apart();
      const victim = pick(placed);
      // Keystone's side publishes through the node neither stopped nor leading.
      const third = c.nodes.findIndex((n) => n !== placed.connected && n !== placed.leader);
      await publisher.use(third);
      const stoppedAt = Date.now();
      await victim.ctl('stop_app');
      const downAt = Date.now();
      const next = await waitFor(
        'a notification published after the stop',
        async () => batches.find((b) => b.startedAt >= downAt),
        RESUME_LIMIT_MS,
      );
      await waitFor(
        `its marker (${fault})`,
        async () => (await get(servers[0].address, `kci:v1:user:${next.first}`)) ?? undefined,
        RESUME_LIMIT_MS,
      );
      const resumeMs = Date.now() - stoppedAt;
      const [daemonOn, leader] = [await c.nodeOfConnection(CONNECTION), await c.leaderOf(NAME)];
      await victim.ctl('start_app');
      return {
        fault,
        stopped: victim.node,
        stopMs: downAt - stoppedAt,
        resumeMs,
        daemonOn: daemonOn?.node,
        leader: leader?.node,
      };
    };

    const failovers: Failover[] = [];
    try {
      await waitFor(
        'a first share published',
        async () => (users.length >= EVENTS / 4 ? true : undefined),
        60_000,
      );
      failovers.push(await failover('the node the daemon is connected to', (p) => p.connected));
      await waitFor(
        'a second share published',
        async () => (users.length >= EVENTS / 2 ? true : undefined),
        60_000,
      );
      failovers.push(await failover('the node leading the quorum queue', (p) => p.leader));
      faultsDone = true;
      await publishing;
      expect(users.length).toBeGreaterThanOrEqual(EVENTS);

      let lost = 0;
      for (const server of servers) {
        const missing = await waitFor(
          `every marker on ${server.address}`,
          async () => {
            const held = new Set(await keys(server.address));
            const gone = users.filter((u) => !held.has(`kci:v1:user:${u}`));
            return gone.length === 0 ? gone : undefined;
          },
          60_000,
        ).catch(async () => {
          const held = new Set(await keys(server.address));
          return users.filter((u) => !held.has(`kci:v1:user:${u}`));
        });
        lost += missing.length;
      }
      await waitFor(
        'the pool queue drained',
        async () => ((await publisher.depth(NAME)) === 0 ? true : undefined),
        30_000,
      );
      const figures = {
        notifications: users.length,
        lost,
        parked: await d.metric('kci_notifications_total', 'outcome="parked"'),
        duplicates: await d.metric('kci_notifications_total', 'outcome="duplicate"'),
        failovers,
        wallSeconds: Math.round((Date.now() - began) / 1000),
      };
      console.log(`rabbitmq-cluster: ${JSON.stringify(figures)}`);
      mkdirSync('.reports', { recursive: true });
      writeFileSync('.reports/rabbitmq-cluster.json', `${JSON.stringify(figures, null, 2)}\n`);

      expect(lost).toBe(0);
      expect(figures.parked).toBe(0);
      expect(await publisher.depth(`${NAME}.parked`)).toBe(0);
      expect(await d.metric('kci_gaps_total', 'reason="messages-dropped"')).toBe(0);
      expect(await d.ready()).toBe(true);
      // Both failovers struck while the flow was on: the connection moved, and the queue's leader too.
      // The daemon moved along its host list off the stopped node; the queue elected another leader.
      expect(failovers).toHaveLength(2);
      for (const f of failovers) {
        expect(f.daemonOn).toBeDefined();
        expect(f.daemonOn).not.toBe(f.stopped);
        expect(f.leader).toBeDefined();
        expect(f.leader).not.toBe(f.stopped);
      }
      for (const f of failovers) expect(f.resumeMs).toBeLessThan(RESUME_LIMIT_MS);
      expect(d.logLines.some((l) => l.includes('broker session ended; reconnecting'))).toBe(true);
      const types = await c.ctl('list_queues', '-p', '/', 'name', 'type', '-q', '--no-table-headers');
      expect(types).toContain(`${NAME}\tquorum`);
      expect(types).toContain(`${NAME}.parked\tquorum`);
    } finally {
      abandoned = true;
      await publisher.close();
      await publishing.catch(() => {});
      await d.stop();
      for (const s of servers) await s.stop();
      // The queues go with the cluster's nodes.
    }
  }, 240_000);
});
