import { createHash } from 'node:crypto';
import { MalformedNotification, type MalformedReason } from './errors.ts';
import { GLOBAL, type Target, type TargetKind, target } from './targets.ts';

/**
 * Keystone's revocation events (`GET /v3/OS-REVOKE/events`), the record of what Keystone revoked that no
 * notification announces: a token revoked with `DELETE /v3/auth/tokens`, a password changed, a user
 * disabled or removed from a group, a trust deleted. An event carries only its non-null fields, and
 * revokes every token that matches ALL of them and was issued before `issued_before`.
 */
export interface RevocationEvent {
  /**
   * The event's identity (events have no id of their own): a hash of its fields, so the same event gives
   * the same key, and logs and memory hold no subject id.
   */
  readonly key: string;
  /** `revoked_at` as epoch ms (Keystone truncates it to whole seconds). */
  readonly revokedAtMs: number;
  /** One target, the narrowest subject the event names, or global when it names none we know. */
  readonly targets: readonly Target[];
}

export type DecodedRevocation =
  | { readonly ok: true; readonly key: string; readonly event: RevocationEvent }
  | { readonly ok: false; readonly key: string; readonly reason: MalformedReason; readonly detail: string };

/**
 * The fields that name a subject, narrowest first. An event matches the tokens that carry every field
 * it names; the marker of any one of them covers all of those tokens (and maybe more, which is safe),
 * so the narrowest is chosen: one revoked token (`audit_id`) removes that token's validation only.
 */
const SUBJECT_FIELDS: ReadonlyArray<readonly [field: string, kind: TargetKind]> = [
  ['audit_id', 'audit'],
  ['audit_chain_id', 'audit-chain'],
  ['OS-OAUTH1:access_token_id', 'oauth-token'],
  ['OS-TRUST:trust_id', 'trust'],
  ['OS-OAUTH1:consumer_id', 'oauth-consumer'],
  ['user_id', 'user'],
  ['project_id', 'project'],
  ['role_id', 'role'],
  ['domain_scope_id', 'domain'],
  ['domain_id', 'domain'],
];
const TIME_FIELDS = ['revoked_at', 'issued_before', 'expires_at'];

/** The body of `GET /v3/OS-REVOKE/events` → each event, decoded or why not. Throws for a body that is no event list. */
export function parseRevocationEvents(body: string): DecodedRevocation[] {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (cause) {
    throw new MalformedNotification('json', 'the answer is not JSON', { cause });
  }
  const events = isObject(value) ? value.events : undefined;
  if (!Array.isArray(events))
    throw new MalformedNotification('field-type', 'the answer has no "events" list');
  return events.map(decodeRevocation);
}

export function decodeRevocation(raw: unknown): DecodedRevocation {
  if (!isObject(raw))
    return malformed(canonicalKey({ not_an_object: String(raw) }), 'an event is not an object');
  const key = canonicalKey(raw);
  try {
    return { ok: true, key, event: { key, revokedAtMs: revokedAt(raw), targets: [subjectOf(raw)] } };
  } catch (error) {
    if (error instanceof MalformedNotification) return malformed(key, error.message);
    throw error;
  }
}

function subjectOf(event: Readonly<Record<string, unknown>>): Target {
  for (const [field, kind] of SUBJECT_FIELDS) {
    const id = event[field];
    if (id === undefined || id === null) continue;
    if (typeof id !== 'string' || id === '') {
      throw new MalformedNotification('field-type', `${field} is not a non-empty string`);
    }
    return target(kind, id);
  }
  // Only times, or fields this daemon does not know: it cannot say whose tokens, so everyone's.
  return GLOBAL;
}

function revokedAt(event: Readonly<Record<string, unknown>>): number {
  const text = event.revoked_at;
  const ms = typeof text === 'string' ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw new MalformedNotification('field-type', 'revoked_at is missing or not a time');
  return ms;
}

/** The fields that make an event what it is, in one order, so the same event gives the same key. */
function canonicalKey(event: Readonly<Record<string, unknown>>): string {
  const known = [...SUBJECT_FIELDS.map(([field]) => field), ...TIME_FIELDS];
  const entries = known
    .filter((field) => event[field] !== undefined && event[field] !== null)
    .sort()
    .map((field) => [field, event[field]]);
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex').slice(0, 32);
}

function malformed(key: string, detail: string): DecodedRevocation {
  return { ok: false, key, reason: 'field-type', detail };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
