/**
 * Why the broker dropped a dead-lettered message from `pool` (its `x-death` reason: `maxlen`,
 * `expired`, `delivery_limit`), or null when nothing was lost: the message was rejected by a consumer
 * (this daemon parking it), or it died in another queue. RabbitMQ puts the most recent death first in
 * `x-death`.
 *
 * Anyone who can publish to the dead-letter exchange can forge these headers: only own properties
 * are read (a table key `__proto__` or `constructor` must not answer), and the reason, which is
 * logged, is one RabbitMQ documents or `other`.
 */
export function droppedFrom(pool: string, headers: Readonly<Record<string, unknown>>): string | null {
  const deaths = own(headers, 'x-death');
  const last = Array.isArray(deaths) ? deaths[0] : undefined;
  const reason = text(own(last, 'reason') ?? own(headers, 'x-first-death-reason'));
  const queue = text(own(last, 'queue') ?? own(headers, 'x-first-death-queue'));
  if (queue !== pool || reason === 'rejected') return null;
  return DROP_REASONS.has(reason) ? reason : 'other';
}

/** RabbitMQ's dead-letter reasons other than `rejected` (a consumer's own rejection). */
const DROP_REASONS: ReadonlySet<string> = new Set(['maxlen', 'expired', 'delivery_limit']);

function own(o: unknown, key: string): unknown {
  return typeof o === 'object' && o !== null && Object.hasOwn(o, key)
    ? (o as Record<string, unknown>)[key]
    : undefined;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
