import { describe, expect, it } from 'vitest';
import { toIdentityEvent } from '../../src/core/events.ts';
import { regionKey, regionsFor } from '../../src/core/keystone-regions.ts';
import { targetsFor } from '../../src/core/rules.ts';
import { notification } from '../support/notifications.ts';

const selection = {
  always: ['tokens'],
  onProjectOrDomainChange: ['shared default'],
  onAssignmentChange: ['computed assignments'],
};

function regions(eventType: string, payload: Record<string, unknown>): string[] {
  const event = toIdentityEvent(notification(eventType, payload));
  return regionsFor(event, targetsFor(event, 'targeted'), selection);
}

describe("Keystone's region-id keys", () => {
  // sha1('<<<region>>>:' + name), as Keystone's RegionInvalidationManager keys a region's id (read
  // from keystone/common/cache/core.py and checked against a running oslo.cache).
  it.each([
    ['tokens', '2d6cad476fdd468cd5142307ac89a6534277951e'],
    ['shared default', '2a4b007dd5619393e567dc0c8bc36c2996d52dd7'],
    ['computed assignments', '5a1551330578815cc8a0b4c07329ef47276e9db0'],
    ['revoke', 'a619987c7b96fd5f3d7c9f80cf5585ac1a22f8ec'],
  ])('%s is stored under %s', (name, key) => {
    expect(regionKey(name)).toBe(key);
  });
});

describe('which regions an event resets', () => {
  it.each([
    ['identity.user.updated', { resource_info: 'u' }, ['tokens']],
    ['identity.user.deleted', { resource_info: 'u' }, ['tokens']],
    ['identity.OS-TRUST:trust.deleted', { resource_info: 't' }, ['tokens']],
    ['identity.project.updated', { resource_info: 'p' }, ['tokens', 'shared default']],
    ['identity.project.deleted', { resource_info: 'p' }, ['tokens', 'shared default']],
    ['identity.domain.updated', { resource_info: 'd' }, ['tokens', 'shared default']],
    ['identity.role.deleted', { resource_info: 'r' }, ['tokens', 'computed assignments']],
    // A global invalidation may hide any change: every region.
    ['identity.group.deleted', { resource_info: 'g' }, ['tokens', 'shared default', 'computed assignments']],
    [
      'identity.role_assignment.deleted',
      { typeURI: 'x', outcome: 'success', user: 'u', project: 'p', role: 'r' },
      ['tokens', 'computed assignments'],
    ],
    ['identity.user.created', { resource_info: 'u' }, []],
    ['identity.authenticate', { typeURI: 'x', outcome: 'failure' }, []],
  ])('%s %j → %j', (eventType, payload, expected) => {
    expect(regions(eventType, payload)).toEqual(expected);
  });
});
