import type { IdentityEvent } from './events.ts';
import { GLOBAL, type Target, type TargetKind, target } from './targets.ts';

export type MarkerMode = 'targeted' | 'global';

/** Which subject kind an event on a resource type invalidates, and on which operations. */
interface SubjectRule {
  readonly operations: ReadonlySet<string>;
  readonly kind: TargetKind | 'global';
}

const UPDATED_DELETED_DISABLED = new Set(['updated', 'deleted', 'disabled']);
const DELETED = new Set(['deleted']);

// `disabled` is never published by Keystone 22 (it is public=False); it is handled in case a release does.
// A Map: the resource type comes from the notification, and a plain object would answer `constructor`.
const SUBJECT_RULES: ReadonlyMap<string, SubjectRule> = new Map([
  ['user', { operations: UPDATED_DELETED_DISABLED, kind: 'user' }],
  ['project', { operations: UPDATED_DELETED_DISABLED, kind: 'project' }],
  ['domain', { operations: UPDATED_DELETED_DISABLED, kind: 'domain' }],
  ['role', { operations: DELETED, kind: 'role' }],
  ['OS-TRUST:trust', { operations: DELETED, kind: 'trust' }],
  ['OS-OAUTH1:consumer', { operations: DELETED, kind: 'oauth-consumer' }],
  ['OS-OAUTH1:access_token', { operations: DELETED, kind: 'oauth-token' }],
  ['application_credential', { operations: DELETED, kind: 'app-cred' }],
  ['identity_provider', { operations: new Set(['deleted', 'disabled']), kind: 'global' }],
] satisfies Array<[string, SubjectRule]>);

/**
 * The invalidation targets of one event; empty means the event changes no cached validation
 * (creations, logins, anything unknown) and is acknowledged without a write.
 */
export function targetsFor(event: IdentityEvent, mode: MarkerMode): Target[] {
  return withMode(targetedTargets(event), mode);
}

/** `global` mode widens any invalidation to the whole region, as Keystone itself does. */
export function withMode(targets: readonly Target[], mode: MarkerMode): Target[] {
  return mode === 'global' && targets.length > 0 ? [GLOBAL] : [...targets];
}

function targetedTargets(event: IdentityEvent): Target[] {
  // Keystone emits role_assignment (and authenticate) on failure too; only a success changed anything.
  if (event.outcome !== null && event.outcome !== 'success') return [];
  const { resourceType, operation } = event;
  if (resourceType === null || operation === null) return [];
  if (resourceType === 'group') return groupTargets(event, operation);
  if (resourceType === 'role_assignment') return assignmentTargets(event, operation);
  const rule = SUBJECT_RULES.get(resourceType);
  if (!rule?.operations.has(operation)) return [];
  if (rule.kind === 'global' || event.resourceId === null) return [GLOBAL];
  return [target(rule.kind, event.resourceId)];
}

// Membership changes: only the basic format names the member. Without it (CADF, or a group deletion)
// any member's tokens may have lost roles, and we cannot know who the members were.
function groupTargets(event: IdentityEvent, operation: string): Target[] {
  if (operation === 'deleted') return [GLOBAL];
  if (operation !== 'updated') return [];
  const actor = event.actor;
  if (actor?.type === 'user' && actor.id !== null) return [target('user', actor.id)];
  return [GLOBAL];
}

function assignmentTargets(event: IdentityEvent, operation: string): Target[] {
  if (operation !== 'created' && operation !== 'deleted') return [];
  const a = event.assignment;
  if (a === null) return [GLOBAL];
  if (a.user !== null) return [target('user', a.user)];
  if (a.group === null) return [GLOBAL];
  // A grant inherited to projects reaches the subtree below the project, which a token's own project
  // marker cannot name; on a domain the domain marker covers every project in it.
  if (a.project !== null) return a.inheritedToProjects ? [GLOBAL] : [target('project', a.project)];
  if (a.domain !== null) return [target('domain', a.domain)];
  return [GLOBAL];
}
