import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../src/core/envelope.ts';
import { MalformedNotification } from '../../src/core/errors.ts';
import { toIdentityEvent } from '../../src/core/events.ts';
import type { Notification } from '../../src/core/notification.ts';
import { type MarkerMode, targetsFor } from '../../src/core/rules.ts';
import { targetName } from '../../src/core/targets.ts';
import { EXPECTED_TARGETS } from '../support/expected-targets.ts';
import { loadFixtures } from '../support/fixtures.ts';
import { notification } from '../support/notifications.ts';

const fixtures = loadFixtures();

function targetsOf(n: Notification, mode: MarkerMode = 'targeted'): string[] {
  return targetsFor(toIdentityEvent(n), mode).map(targetName);
}

const cadf = (action: string, extra: Record<string, unknown>) => ({
  typeURI: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
  eventType: 'activity',
  action,
  outcome: 'success',
  target: { typeURI: 'service/security/account/user', id: '610f90e0-4449-5642-9ea6-99bfa1f5af97' },
  ...extra,
});

describe('rules over every fixture (table of the pipeline issue)', () => {
  it('has an expectation for every AMQP 0-9-1 fixture, so none is skipped silently', () => {
    expect(fixtures.map((f) => f.name).sort()).toEqual(Object.keys(EXPECTED_TARGETS).sort());
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('%s', (name, f) => {
    const n = parseEnvelope({ body: f.body, headers: f.properties.headers ?? {} }, { maxBodyBytes: 1 << 20 });
    expect(targetsOf(n)).toEqual(EXPECTED_TARGETS[name]);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('%s in global mode', (name, f) => {
    const n = parseEnvelope({ body: f.body, headers: f.properties.headers ?? {} }, { maxBodyBytes: 1 << 20 });
    expect(targetsOf(n, 'global')).toEqual((EXPECTED_TARGETS[name] ?? []).length > 0 ? ['global'] : []);
  });
});

describe('rules for events the fixtures do not carry', () => {
  it.each([
    ['identity.role.deleted', { resource_info: 'r1' }, ['role:r1']],
    ['identity.OS-OAUTH1:consumer.deleted', { resource_info: 'c1' }, ['oauth-consumer:c1']],
    ['identity.OS-OAUTH1:access_token.deleted', { resource_info: 't1' }, ['oauth-token:t1']],
    ['identity.application_credential.deleted', { resource_info: 'a1' }, ['app-cred:a1']],
    ['identity.role.created', { resource_info: 'r1' }, []],
    ['identity.role.updated', { resource_info: 'r1' }, []],
    ['identity.region.deleted', { resource_info: 'RegionOne' }, []],
    ['compute.instance.create.end', { instance_id: 'x' }, []],
    ['identity.authenticate', { outcome: 'failure' }, []],
  ])('%s %j → %j', (eventType, payload, expected) => {
    expect(targetsOf(notification(eventType, payload))).toEqual(expected);
  });

  it('a CADF event without resource_info falls back to target.id', () => {
    const payload = cadf('deleted.user', { target: { typeURI: 'data/security/account/user', id: 'u9' } });
    expect(targetsOf(notification('identity.user.deleted', payload))).toEqual(['user:u9']);
  });

  it.each([['identity.user.updated'], ['identity.project.deleted'], ['identity.OS-TRUST:trust.deleted']])(
    '%s whose id is missing invalidates globally',
    (eventType) => {
      expect(targetsOf(notification(eventType, {}))).toEqual(['global']);
    },
  );

  it('a role revoked for a group on a project invalidates the project', () => {
    const payload = cadf('deleted.role_assignment', {
      group: 'g1',
      project: 'p1',
      role: 'r1',
      inherited_to_projects: false,
    });
    expect(targetsOf(notification('identity.role_assignment.deleted', payload))).toEqual(['project:p1']);
  });

  it('a role granted to a group on a domain invalidates the domain', () => {
    const payload = cadf('created.role_assignment', {
      group: 'g1',
      domain: 'd1',
      role: 'r1',
      inherited_to_projects: true,
    });
    expect(targetsOf(notification('identity.role_assignment.created', payload))).toEqual(['domain:d1']);
  });

  it('a group grant inherited to the projects below a project invalidates globally (no marker names the subtree)', () => {
    const payload = cadf('deleted.role_assignment', {
      group: 'g1',
      project: 'p1',
      role: 'r1',
      inherited_to_projects: true,
    });
    expect(targetsOf(notification('identity.role_assignment.deleted', payload))).toEqual(['global']);
  });

  it('a user grant on a domain invalidates the user', () => {
    const payload = cadf('deleted.role_assignment', {
      user: 'u1',
      domain: 'd1',
      role: 'r1',
      inherited_to_projects: false,
    });
    expect(targetsOf(notification('identity.role_assignment.deleted', payload))).toEqual(['user:u1']);
  });

  it('a role assignment that failed in Keystone changes nothing', () => {
    const payload = {
      ...cadf('deleted.role_assignment', { user: 'u1', project: 'p1', role: 'r1' }),
      outcome: 'failure',
    };
    expect(targetsOf(notification('identity.role_assignment.deleted', payload))).toEqual([]);
  });

  it('a role assignment naming neither user nor group invalidates globally', () => {
    const payload = cadf('deleted.role_assignment', { project: 'p1', role: 'r1' });
    expect(targetsOf(notification('identity.role_assignment.deleted', payload))).toEqual(['global']);
  });

  it('a group membership change naming a non-user actor invalidates globally', () => {
    const payload = { resource_info: 'g1', actor_type: 'group', actor_id: 'x', actor_operation: 'removed' };
    expect(targetsOf(notification('identity.group.updated', payload))).toEqual(['global']);
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'a resource type named like an Object property (identity.%s.deleted) invalidates nothing',
    (type) => {
      expect(targetsOf(notification(`identity.${type}.deleted`, { resource_info: 'x' }))).toEqual([]);
    },
  );

  it.each([
    ['a numeric resource_info', 'identity.user.updated', { resource_info: 42 }],
    ['a numeric CADF target.id', 'identity.user.updated', cadf('updated.user', { target: { id: 42 } })],
    [
      'a non-string assignment user',
      'identity.role_assignment.deleted',
      cadf('deleted.role_assignment', { user: ['u'] }),
    ],
    [
      'a string inherited_to_projects',
      'identity.role_assignment.deleted',
      cadf('x', { user: 'u', inherited_to_projects: 'yes' }),
    ],
  ])('an id of the wrong type (%s) is malformed, not guessed at', (_what, eventType, payload) => {
    expect(() => targetsOf(notification(eventType, payload))).toThrow(MalformedNotification);
  });
});
