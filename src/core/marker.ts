import { createHash } from 'node:crypto';
import type { Target } from './targets.ts';

/** Version of the marker protocol in docs/protocol.md; part of every key so a v2 can live beside v1. */
export const PROTOCOL_VERSION = 'v1';

const VERBATIM_ID = /^[A-Za-z0-9._-]{1,128}$/;
const MARKER_VALUE = /^[0-9]{1,16}$/;

/** `<prefix>:v1:global` or `<prefix>:v1:<kind>:<id>`; ids outside the safe alphabet are hashed. */
export function markerKey(prefix: string, t: Target): string {
  if (t.kind === 'global') return `${prefix}:${PROTOCOL_VERSION}:global`;
  // join, not a template: V8 builds a template of 13+ characters as a rope that keeps its parts (the id
  // from the parsed message among them) alive; the daemon remembers up to 100,000 keys (live markers).
  return [prefix, PROTOCOL_VERSION, t.kind, encodeId(t.id)].join(':');
}

// memcached keys may not hold spaces or control characters and stop at 250 bytes; a hash keeps any
// id (unicode names, long federated ids) inside those rules and still lets every reader derive it.
export function encodeId(id: string): string {
  if (VERBATIM_ID.test(id)) return id;
  return `~${createHash('sha256').update(id, 'utf8').digest('hex')}`;
}

/** The value is the invalidation time in Unix epoch milliseconds, as ASCII decimal. */
export function encodeMarkerValue(epochMs: number): string {
  return String(Math.trunc(epochMs));
}

/**
 * The marker's time, or null for a value no v1 writer produced (the writer then overwrites it). Exact:
 * past 2^53 − 1 a number no longer holds every integer (9999999999999999 would read as 1e16, which
 * re-asserted elsewhere is no v1 value), so such values are no markers.
 */
export function decodeMarkerValue(value: string): number | null {
  if (!MARKER_VALUE.test(value)) return null;
  const ms = Number(value);
  return Number.isSafeInteger(ms) ? ms : null;
}

/** How far beyond the skew margin a marker read back may lie ahead of the daemon's clock. */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

/**
 * A marker dated further ahead than any writer's clock can be (one planted by hand or by a broken
 * clock) would, spread to every server, invalidate its subject until that date: it is not spread.
 */
export function isTooFarAhead(valueMs: number, nowMs: number, clockSkewMarginMs: number): boolean {
  return valueMs > nowMs + clockSkewMarginMs + FUTURE_TOLERANCE_MS;
}

/**
 * A stored value as the reader rule sees it: null when the marker is absent, its time when it is a v1
 * marker, and +Infinity when something else is stored there (treated as "invalidated now").
 */
export function readMarkerValue(raw: string | null | undefined): number | null {
  if (raw === null || raw === undefined) return null;
  return decodeMarkerValue(raw) ?? Number.POSITIVE_INFINITY;
}

/** The value a writer stores when it applies an event at `nowMs` (see the protocol's clock rule). */
export function markerTime(nowMs: number, clockSkewMarginMs: number): number {
  return nowMs + clockSkewMarginMs;
}

/** Reader rule: a validation cached at `cachedAtMs` (taken before validating) is stale when ≤ a marker. */
export function isStale(cachedAtMs: number, markers: ReadonlyArray<number | null>): boolean {
  return markers.some((m) => m !== null && cachedAtMs <= m);
}
