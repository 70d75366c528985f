import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuthTokenHarness } from '../support/authtoken-harness.ts';
import { useBroker } from '../support/broker.ts';
import { testConfigYaml, useDaemon } from '../support/daemon.ts';
import { flushAll, SERVERS } from '../support/memcached-probe.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { runName } from '../support/run-name.ts';

const POOL = runName('kci-test-marker-filter');
const PREFIX = 'kci';
const hex = () => randomBytes(16).toString('hex');

interface Case {
  readonly marker: string;
  /** The Keystone event whose marker must re-validate token A only (or both, for global). */
  readonly event: (a: Subjects) => [string, Record<string, unknown>];
  readonly both: boolean;
}

interface Subjects {
  readonly user: string;
  readonly project: string;
  readonly domain: string;
  readonly role: string;
}

const CASES: Case[] = [
  { marker: 'user', event: (a) => ['identity.user.updated', { resource_info: a.user }], both: false },
  {
    marker: 'project',
    event: (a) => ['identity.project.updated', { resource_info: a.project }],
    both: false,
  },
  { marker: 'domain', event: (a) => ['identity.domain.updated', { resource_info: a.domain }], both: false },
  { marker: 'role', event: (a) => ['identity.role.deleted', { resource_info: a.role }], both: false },
  { marker: 'global', event: () => ['identity.group.deleted', { resource_info: hex() }], both: true },
];

describe('stock keystonemiddleware honours markers through the kci_markers paste filter', () => {
  const broker = useBroker(POOL);
  const d = useDaemon(testConfigYaml(POOL));

  it.each(CASES.map((c) => [c.marker, c] as const))(
    'a %s marker re-validates only the tokens it applies to',
    async (_m, c) => {
      await flushAll();
      const harness = await AuthTokenHarness.start('MAC', SERVERS, PREFIX);
      try {
        const a: Subjects = { user: hex(), project: hex(), domain: hex(), role: hex() };
        const b: Subjects = { user: hex(), project: hex(), domain: hex(), role: hex() };
        const tokenA = await harness.issue(a.user, a.project, { domain: a.domain, role: a.role });
        const tokenB = await harness.issue(b.user, b.project, { domain: b.domain, role: b.role });
        for (const t of [tokenA, tokenB]) {
          expect(await harness.request(t)).toEqual({ status: 200, validations: 1 });
          expect(await harness.request(t)).toEqual({ status: 200, validations: 1 });
        }
        const settled = await d().metric('kci_notifications_total');
        const [eventType, payload] = c.event(a);
        await broker().publish(osloV2Body(eventType, payload));
        await d().settled(settled + 1);
        // Keystone is asked again for A; B is still served from auth_token's cache (no request).
        expect(await harness.request(tokenA)).toEqual({ status: 200, validations: 2 });
        expect(await harness.request(tokenB)).toEqual({ status: 200, validations: c.both ? 2 : 1 });
      } finally {
        harness.stop();
      }
    },
  );

  it('treats a validation that began before a marker and finished after it as stale', async () => {
    await flushAll();
    const harness = await AuthTokenHarness.start('None', SERVERS, PREFIX);
    try {
      const user = hex();
      const token = await harness.issue(user, hex());
      // The marker (value: the moment it is written, no margin) lands while Keystone validates.
      await harness.markDuringValidation(token, `${PREFIX}:v1:user:${user}`);
      expect(await harness.request(token)).toEqual({ status: 200, validations: 1 });
      // auth_token cached that response, but its cached-at is the miss, before the marker: a miss.
      expect(await harness.request(token)).toEqual({ status: 200, validations: 2 });
    } finally {
      harness.stop();
    }
  });
});
