/**
 * The address the daemon receives from, when the configuration names none: the pool queue, as the
 * broker the connection reached names queues. Its open frame says which: RabbitMQ 4 takes
 * `/queues/<percent-encoded name>` only; RabbitMQ 3's AMQP 1.0 plugin reads an existing queue at
 * `/amq/queue/<name>` (its `/exchange/…` addresses make a queue that goes with the link, losing what is
 * published while the daemon is away). Anything else (a router, another broker) must be configured.
 */
export function sourceAddress(
  configured: string | undefined,
  pool: string,
  peer: Readonly<Record<string, unknown>> | undefined,
): string {
  if (configured !== undefined) return configured;
  const product = peer?.product;
  const major = Number.parseInt(String(peer?.version ?? ''), 10);
  if (product === 'RabbitMQ' && major >= 4) return `/queues/${encodeURIComponent(pool)}`;
  if (product === 'RabbitMQ' && major === 3) return `/amq/queue/${pool}`;
  throw new Error(
    `the broker is ${typeof product === 'string' ? `"${product}"` : 'not RabbitMQ'}: set amqp.sourceAddress to the address that holds this region's copy of the notifications`,
  );
}
