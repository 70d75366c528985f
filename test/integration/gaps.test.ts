import { describe, expect, it } from 'vitest';
import { startBlackhole } from '../support/blackhole.ts';
import { useBroker } from '../support/broker.ts';
import { startTestDaemon, testConfigYaml } from '../support/daemon.ts';
import { flushAll, get, SERVERS } from '../support/memcached-probe.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { runName } from '../support/run-name.ts';
import { waitFor } from '../support/wait.ts';

const POOL = runName('kci-test-gaps');
const GLOBAL = 'kci:v1:global';

async function globalMarkerOnEveryServer(): Promise<boolean> {
  return (await Promise.all(SERVERS.map((s) => get(s, GLOBAL)))).every((v) => v !== null);
}

describe('gaps: notifications that may never have reached the pool queue', () => {
  const broker = useBroker(POOL);

  it('a pool queue that had to be created means a global invalidation, written before consuming', async () => {
    await flushAll();
    const d = await startTestDaemon(testConfigYaml(POOL));
    try {
      // Ready means consuming, and consuming starts only once the gap is filled.
      expect(await globalMarkerOnEveryServer()).toBe(true);
      expect(await d.metric('kci_gaps_total', 'reason="queue-created"')).toBe(1);
      expect(d.logLines.some((l) => l.includes('the pool queue has to be created'))).toBe(true);
    } finally {
      await d.stop();
    }
  });

  it('a pool queue that kept its messages (it existed) means no gap', async () => {
    await flushAll();
    const d = await startTestDaemon(testConfigYaml(POOL));
    try {
      expect(await d.metric('kci_gaps_total')).toBe(0);
      expect(await Promise.all(SERVERS.map((s) => get(s, GLOBAL)))).toEqual([null, null]);
    } finally {
      await d.stop();
    }
  });

  it('a pool queue deleted under a running daemon is re-created with a global invalidation', async () => {
    const d = await startTestDaemon(testConfigYaml(POOL));
    try {
      await flushAll();
      await broker().channel.deleteQueue(POOL);
      await waitFor('the global marker', async () =>
        (await globalMarkerOnEveryServer()) ? true : undefined,
      );
      expect(await d.metric('kci_gaps_total', 'reason="queue-created"')).toBe(1);
    } finally {
      await d.stop();
    }
  });

  it('a stop while the gap cannot be written returns, and the gap is not lost: the next daemon fills it', async () => {
    await broker().deleteQueues(POOL);
    // Both servers silent: with one live server the gap would be written (and the queue declared).
    const holes = [await startBlackhole(), await startBlackhole()];
    const stuck = await startTestDaemon(testConfigYaml(POOL, { servers: holes.map((h) => h.address) }), {
      waitReady: false,
    });
    try {
      await waitFor('the gap fill retrying on the silent server', async () =>
        stuck.logLines.some((l) => l.includes('retrying')) ? true : undefined,
      );
    } finally {
      await stuck.stop();
      for (const hole of holes) await hole.close();
    }
    // The queue is declared only once the gap is filled, so it is still missing: the gap is seen again.
    await flushAll();
    const d = await startTestDaemon(testConfigYaml(POOL));
    try {
      expect(await globalMarkerOnEveryServer()).toBe(true);
      expect(await d.metric('kci_gaps_total', 'reason="queue-created"')).toBe(1);
    } finally {
      await d.stop();
    }
  });

  it.each([
    ['maxlen', { 'x-max-length': 3 }],
    ['expired', { 'x-message-ttl': 50 }],
  ])('messages the broker drops from the pool queue (%s) are seen as a gap', async (why, limit) => {
    const pool = `${POOL}-dropped-${why}`;
    const dlx = `${pool}.dlx`;
    await broker().deleteQueues(pool, `${pool}.parked`, `${pool}.dropped`);
    const yaml = testConfigYaml(pool, { amqp: [`deadLetterExchange: ${dlx}`], queueArguments: limit });
    // Declares the queue with its limit, and the drops queue; stopped, nothing consumes the pool queue.
    const first = await startTestDaemon(yaml);
    await first.stop();
    await flushAll();
    for (let i = 0; i < 8; i++) {
      await broker().publish(osloV2Body('identity.user.updated', { resource_info: `u${i}` }), undefined);
    }
    await new Promise((r) => setTimeout(r, 200));
    const d = await startTestDaemon(yaml);
    try {
      await waitFor('the global marker', async () =>
        (await globalMarkerOnEveryServer()) ? true : undefined,
      );
      expect(await d.metric('kci_gaps_total', 'reason="messages-dropped"')).toBeGreaterThan(0);
      expect(
        d.logLines.some(
          (l) => l.includes('gap: global invalidation written') && l.includes(`"detail":"${why}"`),
        ),
      ).toBe(true);
      expect(await d.metric('kci_gaps_total', 'reason="queue-created"')).toBe(0);
      await waitFor('the drops queue drained', async () =>
        (await broker().depth(`${pool}.dropped`)) === 0 ? true : undefined,
      );
    } finally {
      await d.stop();
      await broker().deleteQueues(pool, `${pool}.parked`, `${pool}.dropped`);
    }
  });

  it('a message this daemon parks is not a gap', async () => {
    const pool = `${POOL}-parking`;
    await broker().deleteQueues(pool, `${pool}.parked`, `${pool}.dropped`);
    const d = await startTestDaemon(testConfigYaml(pool, { amqp: [`deadLetterExchange: ${pool}.dlx`] }));
    try {
      const gaps = await d.metric('kci_gaps_total');
      await broker().publish(Buffer.from('not json'), undefined);
      await waitFor('the parked message', async () =>
        (await broker().depth(`${pool}.parked`)) === 1 ? true : undefined,
      );
      await waitFor('the drops queue drained', async () =>
        (await broker().depth(`${pool}.dropped`)) === 0 ? true : undefined,
      );
      expect(await d.metric('kci_gaps_total')).toBe(gaps);
    } finally {
      await d.stop();
      await broker().deleteQueues(pool, `${pool}.parked`, `${pool}.dropped`);
    }
  });
});
