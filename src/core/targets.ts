/**
 * What an invalidation applies to. `global` covers every cached validation in the region; the other kinds
 * name one subject that a Keystone token carries (its user, project, domains, roles, trust, …).
 */
export const TARGET_KINDS = [
  'user',
  'project',
  'domain',
  'role',
  'trust',
  'oauth-consumer',
  'oauth-token',
  'app-cred',
  'audit',
  'audit-chain',
] as const;

export type TargetKind = (typeof TARGET_KINDS)[number];

export type Target = { readonly kind: 'global' } | { readonly kind: TargetKind; readonly id: string };

export const GLOBAL: Target = Object.freeze({ kind: 'global' });

export function target(kind: TargetKind, id: string): Target {
  return { kind, id };
}

/** A stable identity for a target, used to coalesce and deduplicate. */
export function targetName(t: Target): string {
  return t.kind === 'global' ? 'global' : `${t.kind}:${t.id}`;
}
