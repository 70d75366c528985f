import { createHash } from 'node:crypto';
import type { IdentityEvent } from './events.ts';
import type { Target } from './targets.ts';

/**
 * Which of Keystone's dogpile cache regions an invalidation must reset. Keystone invalidates a region by
 * changing its region id, stored under sha1('<<<region>>>:' + name); deleting that key makes every
 * Keystone process mint a new id on its next request, orphaning the region's entries.
 */
export interface RegionSelection {
  /** Reset on every invalidating event (`tokens`: cached validations and revocation checks). */
  readonly always: readonly string[];
  /** Also on project and domain updates and deletions (`shared default`: the cached enabled flags). */
  readonly onProjectOrDomainChange: readonly string[];
  /** Also on role, role assignment and group events (`computed assignments`: the role lists). */
  readonly onAssignmentChange: readonly string[];
}

const PROJECT_OR_DOMAIN = new Set(['project', 'domain']);
const CHANGES = new Set(['updated', 'deleted', 'disabled']);
const ASSIGNMENT_TYPES = new Set(['role', 'role_assignment', 'group']);

export function regionsFor(event: IdentityEvent, targets: readonly Target[], s: RegionSelection): string[] {
  if (targets.length === 0) return [];
  const regions = new Set(s.always);
  const type = event.resourceType ?? '';
  // A global invalidation (a group deleted, a gap in the notifications) may hide any change: all regions.
  const everything = targets.some((t) => t.kind === 'global');
  if (everything || (PROJECT_OR_DOMAIN.has(type) && CHANGES.has(event.operation ?? ''))) {
    for (const r of s.onProjectOrDomainChange) regions.add(r);
  }
  if (everything || ASSIGNMENT_TYPES.has(type)) for (const r of s.onAssignmentChange) regions.add(r);
  return [...regions];
}

/** The memcached key of a region's id: lowercase hex SHA-1 of `<<<region>>>:NAME` (not key-mangled). */
export function regionKey(name: string): string {
  return createHash('sha1').update(`<<<region>>>:${name}`, 'utf8').digest('hex');
}
