import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { metadumpEntry, metadumpModeFor } from '../../src/adapters/memcached/metadump.ts';
import { readCachedToken } from '../../src/core/cached-validation.ts';
import { targetName } from '../../src/core/targets.ts';
import { isAffected, tokenSubjects } from '../../src/core/token-subjects.ts';
import { cachedValue, middlewareFixture, type Strategy } from '../support/middleware-entries.ts';

const fixtureToken = (s: Strategy) => {
  const v = middlewareFixture(s)['1_value'];
  return (v.value_json ?? v.value_json_after_base64)?.token as Record<string, unknown>;
};

describe("reading keystonemiddleware's cached validations", () => {
  it.each(['None', 'MAC'] as const)('reads the token of strategy %s', (strategy) => {
    const token = fixtureToken(strategy);
    const read = readCachedToken(Buffer.from(cachedValue(strategy, token)));
    expect(read).toEqual(token);
    expect(read && (read.user as { id: string }).id).toBe(middlewareFixture(strategy).user_id);
  });

  it('cannot read strategy ENCRYPT', () => {
    expect(readCachedToken(Buffer.from(cachedValue('ENCRYPT', fixtureToken('None'))))).toBeNull();
  });

  it('reads a value python-binary-memcached compressed (memcached flag 8), as with auth_token over TLS', () => {
    const token = fixtureToken('MAC');
    const compressed = deflateSync(Buffer.from(cachedValue('MAC', token)));
    expect(readCachedToken(compressed, 8 | 16)).toEqual(token);
    expect(readCachedToken(compressed, 0)).toBeNull();
    expect(readCachedToken(Buffer.from('not zlib'), 8)).toBeNull();
  });

  it('does not inflate or parse a small compressed entry that would become 15 MiB', () => {
    const token = { ...fixtureToken('None'), padding: 'x'.repeat(15 * 2 ** 20) };
    const bomb = deflateSync(Buffer.from(JSON.stringify({ token })), { level: 9 });
    expect(bomb.byteLength).toBeLessThan(32 * 1024);
    // Inflated in full (the old 16 MiB ceiling), this parsed to a token; over the cap it is unreadable.
    expect(readCachedToken(bomb, 8)).toBeNull();
  });

  it('does not parse an uncompressed entry over the limit', () => {
    const token = { ...fixtureToken('None'), padding: 'x'.repeat(2 * 2 ** 20) };
    expect(readCachedToken(Buffer.from(JSON.stringify({ token })))).toBeNull();
  });

  it('reads the legacy [data, expires] form', () => {
    const token = fixtureToken('None');
    expect(readCachedToken(Buffer.from(JSON.stringify([{ token }, 1795327152])))).toEqual(token);
  });

  it.each([['garbage'], ['{"not": "a token"}'], ['{'], ['']])('returns null for %j', (value) => {
    expect(readCachedToken(Buffer.from(value))).toBeNull();
  });
});

describe('the subjects a token carries', () => {
  const token = fixtureToken('None');

  it('names user, project, both domains, roles and audit ids of the real token', () => {
    expect(tokenSubjects(token).map(targetName)).toEqual([
      'user:76d2a5a68299459482f97f2b9f374faa',
      'domain:default',
      'project:c3491cac1f4640b4b7de0aa38ffc53f0',
      'domain:default',
      'role:db01842edc1d4a1196f3e2a5d3f70641',
      'role:a9db5abbfa454be499f06008d82051c8',
      'audit:3mG1cm5pQ8m_RWXeB2ijoA',
      'audit-chain:3mG1cm5pQ8m_RWXeB2ijoA',
    ]);
  });

  it('names trust, application credential, OAuth and the audit chain of a rescoped token', () => {
    const subjects = tokenSubjects({
      user: { id: 'u' },
      domain: { id: 'd' },
      'OS-TRUST:trust': { id: 't' },
      application_credential: { id: 'a' },
      'OS-OAUTH1': { consumer_id: 'c', access_token_id: 'k' },
      audit_ids: ['own', 'chain'],
    }).map(targetName);
    expect(subjects).toEqual(
      expect.arrayContaining([
        'domain:d',
        'trust:t',
        'app-cred:a',
        'oauth-consumer:c',
        'oauth-token:k',
        'audit-chain:chain',
      ]),
    );
    expect(subjects).not.toContain('audit-chain:own');
  });

  it('names the trustor and the trustee of a trust-scoped token', () => {
    const subjects = tokenSubjects({
      user: { id: 'trustee' },
      'OS-TRUST:trust': { id: 't', trustor_user: { id: 'trustor' }, trustee_user: { id: 'trustee' } },
    }).map(targetName);
    expect(subjects).toEqual(expect.arrayContaining(['trust:t', 'user:trustor', 'user:trustee']));
  });

  it('is affected by a target it carries, or by global, and by nothing else', () => {
    const subjects = tokenSubjects(token);
    expect(isAffected(subjects, new Set(['user:76d2a5a68299459482f97f2b9f374faa']))).toBe(true);
    expect(isAffected(subjects, new Set(['role:a9db5abbfa454be499f06008d82051c8']))).toBe(true);
    expect(isAffected(subjects, new Set(['domain:default']))).toBe(true);
    expect(isAffected(subjects, new Set(['global']))).toBe(true);
    expect(isAffected(subjects, new Set(['user:someone-else', 'project:other']))).toBe(false);
  });
});

describe('metadump output', () => {
  it.each([
    ['key=tokens%2F9e82002c exp=1795327152 la=1795326852 cas=8 fetch=no cls=15 size=2029', 'tokens/9e82002c'],
    [
      'key=tokens%2Fb%27IyT5SVNtEH1xYSAcG%2FN7eA%3D%3D%27 exp=1795327152 la=1 cas=8 fetch=no cls=15 size=2029',
      "tokens/b'IyT5SVNtEH1xYSAcG/N7eA=='",
    ],
    ['key=other exp=-1 la=1 cas=2 fetch=yes cls=1 size=65', 'other'],
    ['END', null],
    ['BUSY currently processing crawler request', null],
    ['key=bad%zz exp=1', null],
  ])('%s → %j', (line, key) => {
    expect(metadumpEntry(line)?.key ?? null).toBe(key);
  });

  it.each([
    ['1.6.18', 'hash'],
    ['1.6.9', 'hash'],
    ['1.6.8', 'all'],
    ['1.5.22', 'all'],
    ['1.10.0', 'hash'],
  ])('memcached %s lists keys with metadump %s', (version, mode) => {
    expect(metadumpModeFor(version)).toBe(mode);
  });
});
