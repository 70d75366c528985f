import { markerKey } from '../core/marker.ts';
import { GLOBAL } from '../core/targets.ts';
import { tokenSubjects } from '../core/token-subjects.ts';

/**
 * Every marker key that applies to a validated token (the `token` body of GET /v3/auth/tokens): the
 * global marker and one per subject the token carries (docs/protocol.md, "Markers that apply to a token").
 */
export function markerKeysForToken(token: Readonly<Record<string, unknown>>, prefix = 'kci'): string[] {
  return [...new Set([markerKey(prefix, GLOBAL), ...tokenSubjects(token).map((t) => markerKey(prefix, t))])];
}
