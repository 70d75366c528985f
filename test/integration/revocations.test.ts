import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthTokenHarness } from '../support/authtoken-harness.ts';
import { useBroker } from '../support/broker.ts';
import { startTestDaemon, type TestDaemon, testConfigYaml } from '../support/daemon.ts';
import { ADMIN_PASSWORD, KeystoneServer } from '../support/keystone-server.ts';
import { command, get, SERVERS } from '../support/memcached-probe.ts';
import { runName } from '../support/run-name.ts';
import { tempDir } from '../support/temp-dirs.ts';
import { waitFor } from '../support/wait.ts';

// A real Keystone 22 (Debian's), real keystonemiddleware auth_token caching in both local memcached
// servers, and the daemon polling Keystone's revocation events. Keystone puts nothing on the bus for
// a token revoked with DELETE /v3/auth/tokens: only this source sees it.
const POOL = runName('kci-test-revocations');
const PURGE = 'middlewarePurge: { enabled: true, repeatAfterMs: 300 }\n';

let keystone: KeystoneServer;
let harness: AuthTokenHarness;
let secrets: string;
const daemons: TestDaemon[] = [];

/** A file holding `secret`, as a mounted Kubernetes Secret would. */
function secretFile(name: string, secret: string): string {
  const path = join(secrets, name);
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return path;
}

/** YAML lines under `revocations:` for an application credential of a new user with `role`. */
async function pollerCredentials(role: string): Promise<string[]> {
  const poller = await keystone.createUser(role);
  const credential = await keystone.applicationCredential(poller);
  const file = secretFile(`${credential.id}.secret`, credential.secret);
  return [`applicationCredentialId: ${credential.id}`, `applicationCredentialSecretFile: ${file}`];
}

async function startDaemon(
  credentials: readonly string[],
  options = { waitReady: true },
): Promise<TestDaemon> {
  const lines = ['enabled: true', `authUrl: ${keystone.url}`, ...credentials];
  const extra = `${PURGE}revocations:\n${lines.map((l) => `  ${l}\n`).join('')}`;
  const d = await startTestDaemon(testConfigYaml(POOL, { extra }), options);
  daemons.push(d);
  return d;
}

/** keystonemiddleware's cache key for a token (memcache_security_strategy None). */
const cacheKey = (token: string) => `tokens/${createHash('sha256').update(token).digest('hex')}`;
async function cachedAnywhere(token: string): Promise<boolean> {
  const found = await Promise.all(SERVERS.map((s) => get(s, cacheKey(token))));
  return found.some((v) => v !== null);
}
async function deleteKey(server: string, key: string): Promise<void> {
  await command(server, `delete ${key}`, /(DELETED|NOT_FOUND)\r\n$/);
}
async function markerEverywhere(key: string): Promise<boolean> {
  return (await Promise.all(SERVERS.map((s) => get(s, key)))).every((v) => v !== null);
}

describe("Keystone's revocation events, from a real Keystone to a real auth_token", () => {
  useBroker(POOL);
  let user: Awaited<ReturnType<KeystoneServer['createUser']>>;
  let goodCredentials: string[];

  beforeAll(async () => {
    secrets = tempDir('kci-revocation-secrets');
    keystone = await KeystoneServer.start();
    harness = await AuthTokenHarness.againstKeystone(keystone.url, ADMIN_PASSWORD, SERVERS);
    user = await keystone.createUser();
    goodCredentials = await pollerCredentials('service');
  }, 120_000);

  afterAll(async () => {
    for (const d of daemons) await d.stop();
    harness?.stop();
    await keystone?.stop();
  });

  const token = () => keystone.passwordToken(user.name, user.password, user.project);

  it('a token revoked with DELETE /v3/auth/tokens is rejected by auth_token; the same user’s other token stays cached', async () => {
    const d = await startDaemon(goodCredentials);
    const [revoked, kept] = [await token(), await token()];
    for (const t of [revoked, kept]) {
      expect(await harness.request(t)).toEqual({ status: 200 });
      expect(await cachedAnywhere(t)).toBe(true);
    }
    const audit = await keystone.auditId(revoked);
    await keystone.revoke(revoked);
    expect(await keystone.accepts(revoked)).toBe(false);
    // Keystone says no at once; the region's cache keeps saying yes until the daemon purges the entry.
    await waitFor('auth_token to reject the revoked token', async () =>
      (await harness.request(revoked)).status === 401 ? true : undefined,
    );
    expect(await markerEverywhere(`kci:v1:audit:${audit}`)).toBe(true);
    // Targeted by the token's audit id: the other token's cached validation is still there.
    expect(await cachedAnywhere(kept)).toBe(true);
    expect(await harness.request(kept)).toEqual({ status: 200 });
    expect(await d.metric('kci_revocation_polls_total', 'outcome="ok"')).toBeGreaterThan(0);
    expect(await d.metric('kci_revocation_events_total')).toBeGreaterThanOrEqual(1);
    await d.stop();
  });

  it('a revocation made while the daemon was down is applied when it starts; a restart applies the look-back again', async () => {
    const t = await token();
    expect(await harness.request(t)).toEqual({ status: 200 });
    const marker = `kci:v1:audit:${await keystone.auditId(t)}`;
    await keystone.revoke(t);
    const first = await startDaemon(goodCredentials);
    await waitFor('the revocation made before the start', async () =>
      (await harness.request(t)).status === 401 ? true : undefined,
    );
    await first.stop();
    // Its marker lost (a wiped server), a daemon started within the look-back writes it again.
    for (const server of SERVERS) await deleteKey(server, marker);
    const second = await startDaemon(goodCredentials);
    await waitFor('the marker re-applied from the look-back', async () =>
      (await markerEverywhere(marker)) ? true : undefined,
    );
    await second.stop();
  });

  it('Keystone down: polls fail as unreachable and back off; once it is back nothing is lost', async () => {
    const d = await startDaemon(goodCredentials);
    const t = await token();
    expect(await harness.request(t)).toEqual({ status: 200 });
    await keystone.stop();
    await waitFor('an unreachable poll', async () =>
      (await d.metric('kci_revocation_polls_total', 'outcome="unreachable"')) > 0 ? true : undefined,
    );
    expect(
      d.logLines.some((l) => l.includes('cannot poll Keystone') && l.includes('"outcome":"unreachable"')),
    ).toBe(true);
    expect(await d.ready()).toBe(true); // the broker path goes on: readiness does not wait for Keystone
    await keystone.start();
    await keystone.revoke(t);
    await waitFor(
      'the revocation after the outage',
      async () => ((await harness.request(t)).status === 401 ? true : undefined),
      20_000,
    );
    expect(d.logLines.some((l) => l.includes('polling Keystone again'))).toBe(true);
    await d.stop();
  });

  it('wrong credentials: an error that names the setting, no secret in any line; a good daemon applies what was revoked meanwhile', async () => {
    const bad = [
      'applicationCredentialId: 0123456789abcdef',
      `applicationCredentialSecretFile: ${secretFile('bad', 'not-the-secret')}`,
    ];
    const d = await startDaemon(bad);
    const t = await token();
    expect(await harness.request(t)).toEqual({ status: 200 });
    await keystone.revoke(t);
    await waitFor('an unauthorized poll', async () =>
      (await d.metric('kci_revocation_polls_total', 'outcome="unauthorized"')) > 0 ? true : undefined,
    );
    const line = d.logLines.find((l) => l.includes('"outcome":"unauthorized"')) ?? '';
    expect(line).toContain('"level":"error"');
    expect(line).toContain('revocations.*');
    expect(d.logLines.join('\n')).not.toContain('not-the-secret');
    expect(await harness.request(t)).toEqual({ status: 200 }); // still the stale cache
    await d.stop();
    const good = await startDaemon(goodCredentials);
    await waitFor('the revocation applied by a daemon that can read the events', async () =>
      (await harness.request(t)).status === 401 ? true : undefined,
    );
    await good.stop();
  });

  it('a poller without the admin or service role: an error that names identity:list_revoke_events and the role', async () => {
    const d = await startDaemon(await pollerCredentials('member'));
    await waitFor('a forbidden poll', async () =>
      (await d.metric('kci_revocation_polls_total', 'outcome="forbidden"')) > 0 ? true : undefined,
    );
    const line = d.logLines.find((l) => l.includes('"outcome":"forbidden"')) ?? '';
    expect(line).toContain('identity:list_revoke_events');
    expect(line).toContain('admin or the service role');
    await d.stop();
  });
});
