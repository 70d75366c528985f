import { describe, expect, it } from 'vitest';
import { MalformedNotification } from '../../src/core/errors.ts';
import { RevocationCursor } from '../../src/core/revocation-cursor.ts';
import { decodeRevocation, parseRevocationEvents } from '../../src/core/revocation-events.ts';
import { targetName } from '../../src/core/targets.ts';

const AT = '2026-12-02T11:28:04.000000Z';
const event = (fields: Record<string, unknown>) => ({ issued_before: AT, revoked_at: AT, ...fields });
const targetsOf = (fields: Record<string, unknown>) => {
  const d = decodeRevocation(event(fields));
  if (!d.ok) throw new Error(d.detail);
  return d.event.targets.map(targetName);
};

describe("Keystone's revocation events → targets", () => {
  // The shapes Keystone writes (keystone/revoke/core.py, checked against a running Keystone 22).
  it.each([
    [
      'a token revoked with DELETE /v3/auth/tokens',
      { audit_id: 'bmSV3AIERlCn38oNgepYlw' },
      ['audit:bmSV3AIERlCn38oNgepYlw'],
    ],
    ['a chain revoked', { audit_chain_id: 'c1' }, ['audit-chain:c1']],
    ['a password change or a disabled user', { user_id: 'u1' }, ['user:u1']],
    ['a user removed from a project', { user_id: 'u1', project_id: 'p1' }, ['user:u1']],
    ['a trust deleted', { 'OS-TRUST:trust_id': 't1', user_id: 'u1' }, ['trust:t1']],
    [
      'an OAuth access token deleted',
      { 'OS-OAUTH1:access_token_id': 'a1', 'OS-OAUTH1:consumer_id': 'c1' },
      ['oauth-token:a1'],
    ],
    ['an OAuth consumer deleted', { 'OS-OAUTH1:consumer_id': 'c1' }, ['oauth-consumer:c1']],
    ['a project', { project_id: 'p1' }, ['project:p1']],
    ['a role on a project', { role_id: 'r1', project_id: 'p1' }, ['project:p1']],
    ['a role', { role_id: 'r1' }, ['role:r1']],
    ['a domain scope', { domain_scope_id: 'd1' }, ['domain:d1']],
    ['a domain', { domain_id: 'd1' }, ['domain:d1']],
    ['only times: whose tokens is unknown', { expires_at: AT }, ['global']],
    ['a field this daemon does not know', { something_new: 'x' }, ['global']],
  ])('%s', (_what, fields, targets) => {
    expect(targetsOf(fields)).toEqual(targets);
  });

  it('reads revoked_at to the millisecond, with or without a fraction', () => {
    const d = decodeRevocation(event({ audit_id: 'a', revoked_at: '2026-12-02T11:28:04Z' }));
    expect(d.ok && d.event.revokedAtMs).toBe(Date.UTC(2026, 11, 2, 11, 28, 4));
  });

  it('the same event gives the same key whatever the order of its fields; another event another', () => {
    const a = decodeRevocation({ revoked_at: AT, audit_id: 'x', issued_before: AT });
    const b = decodeRevocation({ audit_id: 'x', issued_before: AT, revoked_at: AT });
    const c = decodeRevocation({ audit_id: 'y', issued_before: AT, revoked_at: AT });
    expect(a.key).toBe(b.key);
    expect(a.key).not.toBe(c.key);
    // The key holds no subject id: it is what the logs show.
    expect(a.key).toMatch(/^[0-9a-f]{32}$/);
  });

  it.each([
    ['no revoked_at', { audit_id: 'a', revoked_at: undefined }],
    ['a revoked_at that is no time', { audit_id: 'a', revoked_at: 'soon' }],
    ['an id that is not a string', { user_id: 42 }],
    ['an empty id', { audit_id: '' }],
  ])('an event with %s cannot be applied, and says why', (_what, fields) => {
    const d = decodeRevocation(event(fields));
    expect(d.ok).toBe(false);
  });

  it('an answer that is no event list is refused as a whole', () => {
    expect(() => parseRevocationEvents('<html>')).toThrow(MalformedNotification);
    expect(() => parseRevocationEvents('{"error": {}}')).toThrow(/no "events" list/);
    expect(parseRevocationEvents('{"events": [], "links": {}}')).toEqual([]);
    expect(parseRevocationEvents('{"events": ["x"]}')[0]?.ok).toBe(false);
  });
});

describe('the revocation cursor', () => {
  const START = Date.UTC(2026, 11, 2, 11, 0, 0);
  const ev = (key: string, second: number) => ({ key, revokedAtMs: START + second * 1000 });

  it('asks from the look-back until an event is applied, then from the newest less the overlap', () => {
    const c = new RevocationCursor(START, 1000, 100);
    expect(c.sinceMs).toBe(START);
    c.record('a', START + 30_000);
    c.record('b', START + 20_000);
    c.commit();
    expect(c.sinceMs).toBe(START + 29_000);
    expect(c.newestMs).toBe(START + 30_000);
  });

  it('keeps since where it is while nothing new arrives', () => {
    const c = new RevocationCursor(START, 1000, 100);
    c.record('a', START + 30_000);
    c.commit();
    c.commit();
    expect(c.sinceMs).toBe(START + 29_000);
  });

  it('an event of the overlap seen again is not handed out again; a new one of the same second is', () => {
    const c = new RevocationCursor(START, 1000, 100);
    c.record('a', START + 30_000);
    c.commit();
    expect(c.unseen([ev('a', 30), ev('b', 30)]).map((e) => e.key)).toEqual(['b']);
  });

  it('a batch not applied whole moves since nothing', () => {
    const c = new RevocationCursor(START, 1000, 100);
    c.record('a', START + 30_000);
    c.abandon();
    c.commit();
    expect(c.sinceMs).toBe(START);
  });

  it('forgets applied events that since can no longer return, and stays within its bound', () => {
    const c = new RevocationCursor(START, 1000, 3);
    for (let i = 0; i < 10; i++) c.record(`e${i}`, START + i * 1000);
    expect(c.size).toBe(3);
    c.commit();
    // since = e9 - 1 s = e8: e7 and older can never come back.
    expect(c.size).toBeLessThanOrEqual(2);
  });
});
