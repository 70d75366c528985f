import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKER_URL, type Broker, connectBroker } from '../support/broker.ts';
import { startTestDaemon, type TestDaemon, testConfigYaml } from '../support/daemon.ts';
import { flushAll, keys, NO_REASSERTION, SERVERS } from '../support/memcached-probe.ts';
import { runName } from '../support/run-name.ts';

const POOL = runName('kci-test-oslo-interop');
const NOTIFY = join(import.meta.dirname, '../support/oslo_notify.py');
const hex = () => randomBytes(16).toString('hex');

// Debian's python3-oslo.messaging imports only under /usr/bin/python3, never a python3 first on PATH.
async function notifyThroughOslo(driver: string, events: string[]): Promise<void> {
  await promisify(execFile)(
    '/usr/bin/python3',
    [NOTIFY, driver, BROKER_URL.replace('amqp:', 'rabbit:'), ...events],
    {
      timeout: 60_000,
    },
  );
}

describe('interop with the real oslo.messaging notifier (Debian python3-oslo.messaging)', () => {
  let broker: Broker;
  let d: TestDaemon;

  beforeAll(async () => {
    broker = await connectBroker();
    await broker.deleteQueues(POOL);
    d = await startTestDaemon(testConfigYaml(POOL, NO_REASSERTION));
  });

  afterAll(async () => {
    await d?.stop();
    // The notifier also declares and fills `notifications.info` for non-pooled listeners; the file's end
    // deletes it (test/support/hygiene.ts) unless the broker held it before the suite.
    await broker?.close();
  });

  it.each([
    ['messagingv2', 2],
    ['messaging', 1],
  ])('driver = %s: every published event becomes its marker on both servers', async (driver, envelope) => {
    await flushAll();
    const [user, project, trust] = [hex(), hex(), hex()];
    const before = await d.metric('kci_notifications_total');
    await notifyThroughOslo(driver, [
      `identity.user.updated:${user}`,
      `identity.project.deleted:${project}`,
      `identity.OS-TRUST:trust.deleted:${trust}`,
      `identity.user.created:${hex()}`,
    ]);
    await d.settled(before + 4);
    const expected = [`kci:v1:project:${project}`, `kci:v1:trust:${trust}`, `kci:v1:user:${user}`].sort();
    for (const server of SERVERS) expect(await keys(server), server).toEqual(expected);
    // The envelope the driver really used (v2 wraps, v1 is the bare dict).
    const applied = d.logLines
      .map((l) => JSON.parse(l))
      .filter((l) => l.messageId && l.msg === 'invalidation written');
    expect(applied.slice(-3).map((l) => l.envelope)).toEqual([envelope, envelope, envelope]);
  });
});
