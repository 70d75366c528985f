/**
 * vitest setupFile: whatever a test file leaves, it leaves nothing behind. When the file ends, passed,
 * failed or timed out, its temporary folders are removed and, for the integration tests, every queue
 * and exchange that the broker did not hold before the suite began is deleted: the file's own, its
 * daemons' (pool, parking and drops queues, dead-letter exchanges) and oslo's `notifications.info`. A
 * queue left bound to `keystone` would otherwise collect every later notification on this machine.
 */
import { afterAll, inject } from 'vitest';
import { BROKER_URL } from './broker.ts';
import { restoreInventory } from './broker-inventory.ts';
import { removeTempDirs } from './temp-dirs.ts';

afterAll(async () => {
  removeTempDirs();
  // Only the integration project's globalSetup takes the inventory; unit tests never touch a broker.
  const before = inject('brokerBefore');
  if (before !== undefined) await restoreInventory(before, BROKER_URL);
});
