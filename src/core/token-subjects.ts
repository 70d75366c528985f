import { type Target, target, targetName } from './targets.ts';

/**
 * Every subject a Keystone v3 token (the `token` body of GET /v3/auth/tokens) carries, as targets: its
 * user, project, the user's, the project's and the scope's domain, each role, trust, application
 * credential, OAuth consumer and access token, audit ids and audit chain id. An invalidation of any of
 * them applies to the token (docs/protocol.md, "Markers that apply to a token").
 */
export function tokenSubjects(token: Readonly<Record<string, unknown>>): Target[] {
  const subjects: Target[] = [];
  const add = (kind: Parameters<typeof target>[0], id: unknown) => {
    if (typeof id === 'string' && id !== '') subjects.push(target(kind, id));
  };
  const user = record(token.user);
  add('user', user.id);
  add('domain', record(user.domain).id);
  const project = record(token.project);
  add('project', project.id);
  add('domain', record(project.domain).id);
  add('domain', record(token.domain).id);
  for (const role of array(token.roles)) add('role', record(role).id);
  const trust = record(token['OS-TRUST:trust']);
  add('trust', trust.id);
  // A trust token acts for the trustor with the trustor's current roles: an event on either user voids it.
  add('user', record(trust.trustor_user).id);
  add('user', record(trust.trustee_user).id);
  add('app-cred', record(token.application_credential).id);
  const oauth = record(token['OS-OAUTH1']);
  add('oauth-consumer', oauth.consumer_id);
  add('oauth-token', oauth.access_token_id);
  const auditIds = array(token.audit_ids);
  for (const id of auditIds) add('audit', id);
  // A rescoped token carries [own audit id, chain id]; an original token's own id starts its chain.
  add('audit-chain', auditIds[auditIds.length - 1]);
  return subjects;
}

/** Whether an invalidation of `targets` applies to a token carrying `subjects`. */
export function isAffected(subjects: readonly Target[], targets: ReadonlySet<string>): boolean {
  return targets.has('global') || subjects.some((s) => targets.has(targetName(s)));
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function array(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
