import { createHash } from 'node:crypto';

/** The longest id kept, and logged, as it came: oslo's `message_id` is a 36-character UUID. */
export const MAX_ID_LENGTH = 128;

/**
 * An id an outsider chose, bounded: a longer one becomes its SHA-256, so it is never held (in the
 * dedupe window) nor logged whole, and still tells messages apart.
 */
export function boundedId(id: string): string {
  if (id.length <= MAX_ID_LENGTH) return id;
  return `sha256:${createHash('sha256').update(id, 'utf8').digest('hex')}`;
}
