import { MalformedNotification } from './errors.ts';
import type { Notification } from './notification.ts';

/**
 * A Keystone notification reduced to what the rules need, whichever payload format carried it.
 * Keystone sends `basic` ({resource_info}) or CADF (pycadf event with `typeURI`); role_assignment and
 * authenticate are CADF even when the deployment is configured for basic.
 */
export interface IdentityEvent {
  readonly eventType: string;
  /** `user`, `project`, `OS-TRUST:trust`, … ; null when the event is not `identity.<type>.<operation>`. */
  readonly resourceType: string | null;
  readonly operation: string | null;
  readonly format: 'basic' | 'cadf';
  /** CADF outcome (`success`, `failure`, `pending`); null where the payload has none. */
  readonly outcome: string | null;
  /** `resource_info`, else CADF `target.id`; null when absent. */
  readonly resourceId: string | null;
  /** Basic-format group membership change: who was added or removed. */
  readonly actor: { readonly type: string | null; readonly id: string | null } | null;
  readonly assignment: RoleAssignment | null;
}

export interface RoleAssignment {
  readonly user: string | null;
  readonly group: string | null;
  readonly project: string | null;
  readonly domain: string | null;
  readonly role: string | null;
  readonly inheritedToProjects: boolean;
}

/**
 * The event of an invalidation that no Keystone notification carried: a gap (events that were missed),
 * an operator's break-glass, a source without events. Of no known type and about no known subject.
 */
export const NO_EVENT: IdentityEvent = Object.freeze({
  eventType: 'unknown',
  resourceType: null,
  operation: null,
  format: 'basic',
  outcome: null,
  resourceId: null,
  actor: null,
  assignment: null,
});

const IDENTITY_PREFIX = 'identity.';

export function toIdentityEvent(n: Notification): IdentityEvent {
  const p = n.payload;
  const format = 'typeURI' in p ? 'cadf' : 'basic';
  const { resourceType, operation } = splitEventType(n.eventType);
  const isAssignment = resourceType === 'role_assignment';
  return {
    eventType: n.eventType,
    resourceType,
    operation,
    format,
    outcome: stringField(p, 'outcome'),
    // A role_assignment's CADF target.id is a random uuid, not the assignment: never use it as a subject.
    resourceId: stringField(p, 'resource_info') ?? (format === 'cadf' && !isAssignment ? targetId(p) : null),
    actor:
      'actor_id' in p || 'actor_type' in p
        ? { type: stringField(p, 'actor_type'), id: stringField(p, 'actor_id') }
        : null,
    assignment: isAssignment ? roleAssignment(p) : null,
  };
}

function splitEventType(eventType: string): { resourceType: string | null; operation: string | null } {
  if (!eventType.startsWith(IDENTITY_PREFIX)) return { resourceType: null, operation: null };
  const rest = eventType.slice(IDENTITY_PREFIX.length);
  const dot = rest.lastIndexOf('.');
  if (dot <= 0) return { resourceType: rest || null, operation: null };
  return { resourceType: rest.slice(0, dot), operation: rest.slice(dot + 1) };
}

function roleAssignment(p: Readonly<Record<string, unknown>>): RoleAssignment {
  const inherited = p.inherited_to_projects;
  if (inherited !== undefined && inherited !== null && typeof inherited !== 'boolean') {
    throw new MalformedNotification('field-type', 'inherited_to_projects is not a boolean');
  }
  return {
    user: stringField(p, 'user'),
    group: stringField(p, 'group'),
    project: stringField(p, 'project'),
    domain: stringField(p, 'domain'),
    role: stringField(p, 'role'),
    inheritedToProjects: inherited === true,
  };
}

function targetId(p: Readonly<Record<string, unknown>>): string | null {
  const t = p.target;
  if (t === undefined || t === null) return null;
  if (typeof t !== 'object' || Array.isArray(t)) {
    throw new MalformedNotification('field-type', 'target is not an object');
  }
  return stringField(t as Record<string, unknown>, 'id', 'target.id');
}

/** A present id that is not a non-empty string is not Keystone's: park it rather than guess. */
function stringField(o: Readonly<Record<string, unknown>>, field: string, name = field): string | null {
  const value = o[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new MalformedNotification('field-type', `${name} is not a string`);
  return value === '' ? null : value;
}
