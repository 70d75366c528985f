import amqp from 'amqplib';
import { listNames } from './rabbitmqctl.ts';

/** What the broker holds in vhost `/`: the queues and exchanges a test may have left behind. */
export interface BrokerInventory {
  readonly queues: readonly string[];
  readonly exchanges: readonly string[];
}

export async function takeInventory(): Promise<BrokerInventory> {
  const [queues, exchanges] = await Promise.all([listNames('queues'), listNames('exchanges')]);
  return { queues: queues.sort(), exchanges: exchanges.sort() };
}

/** What `now` holds that `before` did not. */
export function addedSince(before: BrokerInventory, now: BrokerInventory): BrokerInventory {
  return {
    queues: now.queues.filter((q) => !before.queues.includes(q)),
    exchanges: now.exchanges.filter((e) => !before.exchanges.includes(e)),
  };
}

export function isEmpty(inventory: BrokerInventory): boolean {
  return inventory.queues.length === 0 && inventory.exchanges.length === 0;
}

export function describeInventory(inventory: BrokerInventory): string {
  return [
    ...inventory.queues.map((q) => `queue "${q}"`),
    ...inventory.exchanges.map((e) => `exchange "${e}"`),
  ].join(', ');
}

/**
 * Names the tests and what they start may declare: `kci-…` (pools, their `.parked` and `.dropped`
 * queues, dead-letter exchanges, the benchmark's), and what Keystone's side declares: the `keystone`
 * exchange and oslo's `notifications.info`.
 */
export function isTestName(name: string): boolean {
  return name.startsWith('kci-') || name === 'keystone' || name === 'notifications.info';
}

/**
 * Deletes what the broker holds beyond `before` (queues with their messages and bindings, then the
 * exchanges), and returns what it deleted. What existed before is never touched, and neither is a name
 * no test uses (another process on this broker may own it; the suite's last file reports it).
 */
export async function restoreInventory(before: BrokerInventory, url: string): Promise<BrokerInventory> {
  const { queues, exchanges } = addedSince(before, await takeInventory());
  const added = { queues: queues.filter(isTestName), exchanges: exchanges.filter(isTestName) };
  if (isEmpty(added)) return added;
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    for (const queue of added.queues) await channel.deleteQueue(queue);
    for (const exchange of added.exchanges) await channel.deleteExchange(exchange);
  } finally {
    await connection.close();
  }
  return added;
}
