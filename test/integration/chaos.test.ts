import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TEST_QUEUE_ARGUMENTS } from '../support/broker.ts';
import { type ChildDaemon, runCli, writeConfig } from '../support/child-daemon.ts';
import { ConfirmedPublisher } from '../support/confirmed-publisher.ts';
import { keys } from '../support/memcached-probe.ts';
import { restartableMemcached } from '../support/memcached-process.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { usePrivateBroker } from '../support/private-broker.ts';
import { closeConnections } from '../support/rabbitmqctl.ts';
import { runName } from '../support/run-name.ts';
import { startProxy, type TestProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/wait.ts';

// Every fault of the reliability issue while 5,000 notifications flow, against real processes: the
// daemon (killed and restarted as operators' orchestrators do), RabbitMQ and two memcached servers. The
// daemon reaches the broker through two proxies (the two hosts of its transport_url) and each memcached
// through a proxy, so connections can be cut, hosts refused and networks silenced. The broker is a node
// of the test's own: stopping the machine's shared one would delete every non-durable queue on it.
const EVENTS = 5_000;
const PHASES = 10;
const MALFORMED_EVERY = 50;
const NAME = runName('kci-chaos');
const TEST_TIMEOUT_MS = 300_000;
/** How long a SIGTERMed daemon may take to exit: its grace period (2 s) and the closing handshakes. */
const EXIT_LIMIT_MS = 15_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('chaos: every fault while 5,000 notifications flow', () => {
  const rabbit = usePrivateBroker();
  it(
    'ends with every marker on every server, nothing left on the queue, and no crash but ours',
    async () => {
      const servers = [await restartableMemcached(), await restartableMemcached()] as const;
      const [mcA, mcB] = [await startProxy(servers[0].port), await startProxy(servers[1].port)];
      const [hostA, hostB] = [await startProxy(rabbit().port), await startProxy(rabbit().port)];
      const config = writeConfig(`region: chaos
amqp:
  url: rabbit://guest:guest@127.0.0.1:${hostA.port},guest:guest@127.0.0.1:${hostB.port}/
  pool: ${NAME}
  exchange: ${NAME}
  durable: true
  queueArguments: ${JSON.stringify(TEST_QUEUE_ARGUMENTS)}
  deadLetterExchange: ${NAME}.dlx
  heartbeatSeconds: 1
  connectTimeoutMs: 1000
  reconnect: { initialDelayMs: 50, maxDelayMs: 500 }
memcached:
  servers: ["127.0.0.1:${mcA.port}", "127.0.0.1:${mcB.port}"]
  requestTimeoutMs: 300
  probeIntervalMs: 200
  retry: { initialDelayMs: 20, maxDelayMs: 200 }
markers: { reassertIntervalSeconds: 5 }
http: { host: 127.0.0.1, port: 0 }
shutdown: { graceMs: 2000 }
`);
      const crashes: string[] = [];
      const ours = new Set<ChildDaemon>();
      const all: ChildDaemon[] = [];
      // Where the test is, so a hang names its step: vitest's timeout ends the test without our catch.
      const began = Date.now();
      const steps: string[] = [];
      const step = (name: string) => steps.push(`${((Date.now() - began) / 1000).toFixed(1)} s  ${name}`);
      const dump = (why: string) => {
        writeFileSync(
          '.reports/chaos-daemons.log',
          [why, ...steps, ...all.map((d, i) => `--- daemon ${i}\n${d.output()}`)].join('\n'),
        );
        console.error(`chaos: ${why}; last step: ${steps.at(-1)}; daemon logs: .reports/chaos-daemons.log`);
      };
      // vitest's timeout does not stop this body: a restart after it would leave a daemon nobody ends.
      let abandoned = false;
      const watchdog = setTimeout(() => {
        dump('still running near the test timeout');
        abandoned = true;
        for (const d of all) d.child.kill('SIGKILL');
      }, TEST_TIMEOUT_MS - 20_000);
      const start = async (): Promise<ChildDaemon> => {
        if (abandoned) throw new Error('the chaos test ran out of time');
        const d = runCli(['run', '--config', config]);
        all.push(d);
        d.exited.then((code) => {
          if (!ours.has(d)) crashes.push(`exit ${code}: ${d.output().slice(-2000)}`);
        });
        await d.waitForLog(/"msg":"consuming"/, 30_000).catch(() => {});
        return d;
      };
      /** Ends our daemon; one that outlives EXIT_LIMIT_MS after the signal is a crash, and killed. */
      const end = async (signal: 'SIGKILL' | 'SIGTERM') => {
        ours.add(daemon);
        daemon.child.kill(signal);
        const code = await Promise.race([daemon.exited, sleep(EXIT_LIMIT_MS).then(() => 'hung' as const)]);
        if (code === 'hung') {
          crashes.push(`no exit within ${EXIT_LIMIT_MS} ms of ${signal}: ${daemon.output().slice(-2000)}`);
          daemon.child.kill('SIGKILL');
          await daemon.exited;
        } else if (signal === 'SIGTERM' && code !== 0) crashes.push(`SIGTERM exit ${code}`);
      };
      const restart = async (signal: 'SIGKILL' | 'SIGTERM') => {
        await end(signal);
        daemon = await start();
      };
      let daemon = await start();
      const publisher = new ConfirmedPublisher([rabbit().url], NAME);
      const proxies: TestProxy[] = [mcA, mcB, hostA, hostB];

      // Each phase publishes its share while one fault is injected and healed; the fault begins once
      // part of the phase is published, so notifications are in flight when it strikes.
      const faults: Array<[string, () => Promise<void>]> = [
        ['none', async () => {}],
        [
          'connection closed by the broker',
          async () => {
            await closeConnections('keystone-cache-invalidator:chaos', { node: rabbit().node });
          },
        ],
        [
          'one memcached server down, back empty',
          async () => {
            await servers[1].stop();
            await sleep(1_500);
            await servers[1].start();
            await sleep(1_000); // a few probes: time to notice the wipe before the next fault
          },
        ],
        ['daemon SIGKILL', () => restart('SIGKILL')],
        [
          'a broker host down',
          async () => {
            hostA.refuse(true);
            hostA.cutAll();
            await sleep(1_500);
            hostA.refuse(false);
          },
        ],
        [
          'one memcached server partitioned',
          async () => {
            mcA.freeze();
            await sleep(1_500);
            mcA.thaw();
          },
        ],
        [
          'silent partition from the broker (heartbeats lost)',
          async () => {
            hostA.freeze();
            hostB.freeze();
            await sleep(4_000);
            hostA.thaw();
            hostB.thaw();
          },
        ],
        [
          'every memcached server unreachable',
          async () => {
            mcA.freeze();
            mcB.freeze();
            await sleep(2_000);
            mcA.thaw();
            mcB.thaw();
          },
        ],
        [
          'broker stop and start',
          async () => {
            await rabbit().ctl('stop_app');
            await rabbit().ctl('start_app');
          },
        ],
        ['daemon SIGTERM', () => restart('SIGTERM')],
      ];
      expect(faults).toHaveLength(PHASES);

      const users: string[] = [];
      let malformed = 0;
      try {
        for (const [phase, [name, fault]] of faults.entries()) {
          step(`phase ${phase}: ${name}`);
          const bodies: Buffer[] = [];
          for (let i = 0; i < EVENTS / PHASES; i++) {
            if ((phase * EVENTS) / PHASES + i > 0 && i % MALFORMED_EVERY === 0) {
              bodies.push(Buffer.from(`{"oslo.version": "2.0", "oslo.message": "{not json ${malformed++}`));
            }
            const user = randomBytes(12).toString('hex');
            users.push(user);
            bodies.push(osloV2Body('identity.user.updated', { resource_info: user }));
          }
          const half = Math.floor(bodies.length / 2);
          await publisher.publish(bodies.slice(0, half));
          await Promise.all([publisher.publish(bodies.slice(half)), fault()]);
        }
        expect(users).toHaveLength(EVENTS);

        for (const server of servers) {
          step(`waiting for every marker on ${server.address}`);
          await waitFor(
            `all ${EVENTS} markers on ${server.address}`,
            async () => {
              const held = new Set((await keys(server.address)).filter((k) => k.startsWith('kci:v1:user:')));
              const missing = users.filter((u) => !held.has(`kci:v1:user:${u}`)).length;
              return missing === 0 ? true : undefined;
            },
            120_000,
          );
        }
        step('waiting for the pool queue to drain');
        await waitFor(
          'the pool queue drained',
          async () => ((await publisher.depth(NAME)) === 0 ? true : undefined),
          60_000,
        );
        // Every malformed message was parked exactly once, and none blocked the queue.
        expect(await publisher.depth(`${NAME}.parked`)).toBe(malformed);
        expect(daemon.child.exitCode).toBeNull();
        expect(crashes).toEqual([]);
        expect(all).toHaveLength(3);
        // The faults struck: each left its trace in the daemons' logs.
        const logs = all.map((d) => d.output()).join('\n');
        for (const trace of [
          'broker session ended; reconnecting',
          'lost its data',
          'invalidation not written everywhere; retrying',
          'parked a notification',
          '"redelivered":true',
        ])
          expect(logs, trace).toContain(trace);
      } catch (error) {
        dump(`failed: ${(error as Error).message}`);
        throw error;
      } finally {
        clearTimeout(watchdog);
        step('cleaning up');
        await end('SIGTERM');
        await publisher.close();
        for (const p of proxies) await p.close();
        for (const s of servers) await s.stop();
        // The queues and exchanges go with the private broker.
      }
    },
    TEST_TIMEOUT_MS,
  );
});
