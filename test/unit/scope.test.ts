import { describe, expect, it } from 'vitest';
import { invalidationsFor, parseScope, ScopeError } from '../../src/cli/scope.ts';
import { regionsFor } from '../../src/core/keystone-regions.ts';

const SELECTION = {
  always: ['tokens'],
  onProjectOrDomainChange: ['shared default'],
  onAssignmentChange: ['computed assignments'],
};

describe('--scope: what an operator names for a break-glass invalidation', () => {
  it.each([
    ['global', { kind: 'global' }],
    ['user=3f2a', { kind: 'user', id: '3f2a' }],
    ['app-cred=x=y', { kind: 'app-cred', id: 'x=y' }],
  ])('%s', (text, target) => {
    expect(parseScope(text)).toEqual(target);
  });

  it.each(['tenant=1', 'user', 'user=', 'user=  ', 'audit=abc', 'Global'])('%s is refused', (text) => {
    expect(() => parseScope(text)).toThrow(ScopeError);
  });

  it('each scope becomes the event Keystone would publish, so the region rules pick the same regions', () => {
    const regions = invalidationsFor(
      ['user=u', 'project=p', 'role=r', 'global', 'user=u'].map(parseScope),
    ).map((i) => [i.targets, regionsFor(i.event, i.targets, SELECTION)]);
    expect(regions).toEqual([
      [[{ kind: 'user', id: 'u' }], ['tokens']],
      [[{ kind: 'project', id: 'p' }], ['tokens', 'shared default']],
      [[{ kind: 'role', id: 'r' }], ['tokens', 'computed assignments']],
      [[{ kind: 'global' }], ['tokens', 'shared default', 'computed assignments']],
    ]);
  });
});
