import type { GapReason } from '../../ports/source.ts';

const DROP_REASONS: Readonly<Record<string, GapReason>> = {
  maxlen: 'dropped-maxlen',
  expired: 'dropped-expired',
  delivery_limit: 'dropped-delivery-limit',
};

/**
 * Why the broker dead-lettered a message out of `pool`, as a gap, or null when nothing was lost: the
 * message was rejected by a consumer (this daemon parking it), or it died in another queue. RabbitMQ puts
 * the most recent death first in `x-death`.
 */
export function droppedFrom(pool: string, headers: Readonly<Record<string, unknown>>): GapReason | null {
  const deaths = headers['x-death'];
  const last = Array.isArray(deaths) ? (deaths[0] as Record<string, unknown> | undefined) : undefined;
  const reason = String(last?.reason ?? headers['x-first-death-reason'] ?? '');
  const queue = String(last?.queue ?? headers['x-first-death-queue'] ?? '');
  if (queue !== pool || reason === 'rejected') return null;
  return DROP_REASONS[reason] ?? 'dropped-other';
}
