/**
 * Why the broker dropped a dead-lettered message from `pool` (its `x-death` reason: `maxlen`,
 * `expired`, `delivery_limit`, …), or null when nothing was lost: the message was rejected by a
 * consumer (this daemon parking it), or it died in another queue. RabbitMQ puts the most recent death
 * first in `x-death`.
 */
export function droppedFrom(pool: string, headers: Readonly<Record<string, unknown>>): string | null {
  const deaths = headers['x-death'];
  const last = Array.isArray(deaths) ? (deaths[0] as Record<string, unknown> | undefined) : undefined;
  const reason = String(last?.reason ?? headers['x-first-death-reason'] ?? '');
  const queue = String(last?.queue ?? headers['x-first-death-queue'] ?? '');
  if (queue !== pool || reason === 'rejected') return null;
  // It is logged: only a word RabbitMQ would use, never whatever a header may hold.
  return /^[a-z_-]{1,32}$/.test(reason) ? reason : 'other';
}
