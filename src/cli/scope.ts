import { type IdentityEvent, NO_EVENT } from '../core/events.ts';
import { GLOBAL, type Target, type TargetKind, targetName } from '../core/targets.ts';
import type { Invalidation } from '../ports/action.ts';

/** The kinds an operator may name with `--scope`; the audit kinds belong to the revocation poller. */
export const SCOPE_KINDS = [
  'user',
  'project',
  'domain',
  'role',
  'trust',
  'app-cred',
] as const satisfies readonly TargetKind[];

export class ScopeError extends Error {}

/** `global` or `<kind>=<id>`, as operators type them after `--scope`. */
export function parseScope(text: string): Target {
  if (text === 'global') return GLOBAL;
  const at = text.indexOf('=');
  const kind = text.slice(0, at);
  const id = text.slice(at + 1);
  if (at < 0 || !(SCOPE_KINDS as readonly string[]).includes(kind)) {
    throw new ScopeError(
      `--scope "${text}": use global or KIND=ID with KIND one of ${SCOPE_KINDS.join(', ')}`,
    );
  }
  if (id.trim() === '') throw new ScopeError(`--scope "${text}": the id is empty`);
  return { kind: kind as TargetKind, id };
}

// What Keystone would publish for a change of each kind, so the region-key rules pick the same regions
// a real event would (a role change also resets the computed assignments, …).
const EVENT_OF: Readonly<Record<string, readonly [resourceType: string, operation: string]>> = {
  user: ['user', 'updated'],
  project: ['project', 'updated'],
  domain: ['domain', 'updated'],
  role: ['role', 'updated'],
  trust: ['OS-TRUST:trust', 'deleted'],
  'app-cred': ['application_credential', 'deleted'],
};

/** One invalidation per scope, as if Keystone had published the change; duplicates merged. */
export function invalidationsFor(scopes: readonly Target[]): Invalidation[] {
  const unique = new Map(scopes.map((t) => [targetName(t), t]));
  return [...unique.values()].map((target) => {
    const shape = target.kind === 'global' ? undefined : EVENT_OF[target.kind];
    const event: IdentityEvent =
      shape === undefined
        ? NO_EVENT
        : {
            ...NO_EVENT,
            eventType: `identity.${shape[0]}.${shape[1]}`,
            resourceType: shape[0],
            operation: shape[1],
          };
    return { event, targets: [target] };
  });
}
