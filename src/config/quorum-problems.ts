import type { z } from 'zod';

/** Settings a quorum pool queue cannot have, each named with its fix (RabbitMQ would answer 406). */
export function quorumProblems(
  a: {
    queueType: 'classic' | 'quorum';
    durable: boolean;
    queueArguments: Record<string, unknown>;
    quorum: { deliveryLimit: number; maxMemoryLength: number; maxMemoryBytes: number };
  },
  ctx: z.RefinementCtx,
): void {
  const problem = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if ('x-queue-type' in a.queueArguments) {
    problem(['queueArguments', 'x-queue-type'], 'set amqp.queueType (classic or quorum) instead');
  }
  if (a.queueType !== 'quorum') {
    if (Object.values(a.quorum).some((v) => v !== 0)) {
      problem(['quorum'], 'applies only with amqp.queueType: quorum (oslo reads rabbit_quorum_* only then)');
    }
    return;
  }
  if (!a.durable) {
    problem(
      ['durable'],
      'amqp.queueType quorum needs amqp.durable: true (quorum queues are always durable, and oslo ' +
        'declares the exchange durable with rabbit_quorum_queue too)',
    );
  }
  if ('x-delivery-limit' in a.queueArguments && a.quorum.deliveryLimit !== 0) {
    problem(['queueArguments', 'x-delivery-limit'], 'set amqp.quorum.deliveryLimit only, not both');
  }
}
