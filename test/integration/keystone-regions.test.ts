import { describe, expect, it } from 'vitest';
import { useBroker } from '../support/broker.ts';
import { testConfigYaml, useDaemon } from '../support/daemon.ts';
import { get, SERVERS, set } from '../support/memcached-probe.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { runName } from '../support/run-name.ts';
import { waitFor } from '../support/wait.ts';

const POOL = runName('kci-test-keystone-regions');
const TOKENS = '2d6cad476fdd468cd5142307ac89a6534277951e';
const SHARED_DEFAULT = '2a4b007dd5619393e567dc0c8bc36c2996d52dd7';
const COMPUTED_ASSIGNMENTS = '5a1551330578815cc8a0b4c07329ef47276e9db0';
// What oslo.cache stores there is a protocol-0 pickle of a dogpile CachedValue; any bytes will do.
const PICKLE = 'ccopy_reg\\n_reconstructor\\np0';

async function seedRegionIds(): Promise<void> {
  for (const server of SERVERS)
    for (const key of [TOKENS, SHARED_DEFAULT, COMPUTED_ASSIGNMENTS]) await set(server, key, PICKLE);
}

async function present(key: string): Promise<boolean[]> {
  return Promise.all(SERVERS.map(async (s) => (await get(s, key)) !== null));
}

describe("keystoneRegions: Keystone's own caches in the region are reset", () => {
  const broker = useBroker(POOL);
  const d = useDaemon(
    testConfigYaml(POOL, { extra: 'keystoneRegions: { enabled: true, repeatAfterMs: 400 }\n' }),
  );

  it('a user update deletes the tokens region key on every server, and again after the repeat delay', async () => {
    await seedRegionIds();
    const settled = await d().metric('kci_notifications_total');
    await broker().publish(osloV2Body('identity.user.updated', { resource_info: 'u-regions-1' }));
    await waitFor('the tokens key gone everywhere', async () =>
      (await present(TOKENS)).every((p) => !p) ? true : undefined,
    );
    expect(await present(SHARED_DEFAULT)).toEqual([true, true]);
    expect(await present(COMPUTED_ASSIGNMENTS)).toEqual([true, true]);
    // A Keystone process mints a new region id meanwhile (re-caching what it read before the commit).
    for (const server of SERVERS) await set(server, TOKENS, PICKLE);
    await waitFor('the second pass', async () =>
      (await present(TOKENS)).every((p) => !p) ? true : undefined,
    );
    await d().settled(settled + 1);
    expect(await d().metric('kci_keystone_region_resets_total', 'region="tokens"')).toBeGreaterThanOrEqual(2);
  });

  it('a project update also resets "shared default", where Keystone caches the enabled flag', async () => {
    await seedRegionIds();
    const settled = await d().metric('kci_notifications_total');
    await broker().publish(osloV2Body('identity.project.updated', { resource_info: 'p-regions-1' }));
    await d().settled(settled + 1);
    expect(await present(TOKENS)).toEqual([false, false]);
    expect(await present(SHARED_DEFAULT)).toEqual([false, false]);
    expect(await present(COMPUTED_ASSIGNMENTS)).toEqual([true, true]);
  });

  it('a role revoked from a group resets "computed assignments"', async () => {
    await seedRegionIds();
    const settled = await d().metric('kci_notifications_total');
    const payload = {
      typeURI: 'x',
      outcome: 'success',
      group: 'g1',
      project: 'p1',
      role: 'r1',
      inherited_to_projects: false,
    };
    await broker().publish(osloV2Body('identity.role_assignment.deleted', payload));
    await d().settled(settled + 1);
    expect(await present(TOKENS)).toEqual([false, false]);
    expect(await present(COMPUTED_ASSIGNMENTS)).toEqual([false, false]);
    expect(await present(SHARED_DEFAULT)).toEqual([true, true]);
  });

  it('noise resets nothing', async () => {
    await seedRegionIds();
    const settled = await d().metric('kci_notifications_total');
    await broker().publish(osloV2Body('identity.authenticate', { typeURI: 'x', outcome: 'failure' }));
    await broker().publish(osloV2Body('identity.user.created', { resource_info: 'u2' }));
    await d().settled(settled + 2);
    for (const key of [TOKENS, SHARED_DEFAULT, COMPUTED_ASSIGNMENTS])
      expect(await present(key)).toEqual([true, true]);
  });
});
