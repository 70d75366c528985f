import { describe, expect, it } from 'vitest';
import { startBlackhole } from '../support/blackhole.ts';
import { useBroker } from '../support/broker.ts';
import { startTestDaemon, testConfigYaml } from '../support/daemon.ts';
import { flushAll, get, SERVERS } from '../support/memcached-probe.ts';
import { waitFor } from '../support/wait.ts';

const POOL = 'kci-test-gaps';
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
});
