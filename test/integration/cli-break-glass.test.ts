import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { regionKey } from '../../src/core/keystone-regions.ts';
import { startBlackhole } from '../support/blackhole.ts';
import { runCli, writeConfig } from '../support/child-daemon.ts';
import { testConfigYaml } from '../support/daemon.ts';
import { get, SERVERS, set } from '../support/memcached-probe.ts';
import { runName } from '../support/run-name.ts';

const hex = () => randomBytes(16).toString('hex');
const SECRET = `kci-secret-${hex()}`;

async function cli(args: string[], servers: readonly string[] = SERVERS, extra = '') {
  const yaml = testConfigYaml(runName('kci-test-cli-break-glass'), {
    servers,
    extra,
    url: `rabbit://kci:${SECRET}@127.0.0.1:5672/`,
  });
  const run = runCli([...args, '--config', writeConfig(yaml)]);
  const code = await run.exited;
  const output = run.output();
  expect(output).not.toContain(SECRET);
  return { code, output, audit: auditLine(output) };
}

/** The audit record: the one JSON line with `"audit":"invalidate"`. */
function auditLine(output: string): Record<string, unknown> | undefined {
  const line = output.split('\n').find((l) => l.includes('"audit":"invalidate"'));
  return line === undefined ? undefined : JSON.parse(line);
}

describe('invalidate: break-glass, without the broker', () => {
  it('writes the markers of every scope on every server, applies the enabled actions, and audits it', async () => {
    const [user, project] = [hex(), hex()];
    for (const server of SERVERS) await set(server, regionKey('tokens'), 'region-id');
    const extra = 'keystoneRegions: { enabled: true }\n';
    const { code, output, audit } = await cli(
      ['invalidate', '--scope', `user=${user}`, '-s', `project=${project}`],
      SERVERS,
      extra,
    );
    expect(code, output).toBe(0);
    for (const server of SERVERS) {
      expect(Number(await get(server, `kci:v1:user:${user}`))).toBeGreaterThan(Date.now() - 60_000);
      expect(await get(server, `kci:v1:project:${project}`)).not.toBeNull();
      expect(await get(server, regionKey('tokens'))).toBeNull();
    }
    expect(output).toMatch(/markers\s+user:\w+, project:\w+/);
    expect(output).toMatch(/keystoneRegions\s+tokens, shared default/);
    expect(audit).toMatchObject({
      level: 'warn',
      audit: 'invalidate',
      scopes: [`user:${user}`, `project:${project}`],
      dryRun: false,
      results: { markers: { [SERVERS[0]]: 'ok', [SERVERS[1]]: 'ok' } },
    });
    expect(audit?.operator).toEqual(expect.any(String));
  });

  it('--dry-run prints the plan, changes nothing, and is audited too', async () => {
    const user = hex();
    const { code, output, audit } = await cli(['invalidate', '--scope', `user=${user}`, '--dry-run']);
    expect(code).toBe(0);
    expect(output).toContain(`would invalidate user:${user} on ${SERVERS.join(', ')}`);
    for (const server of SERVERS) expect(await get(server, `kci:v1:user:${user}`)).toBeNull();
    expect(audit).toMatchObject({ audit: 'invalidate', dryRun: true, results: {} });
  });

  it('exits 1 and names the server when one did not take it; the others did', async () => {
    const hole = await startBlackhole();
    try {
      const { code, output, audit } = await cli(
        ['invalidate', '--scope', 'global'],
        [SERVERS[0], hole.address],
      );
      expect(code).toBe(1);
      expect(output).toMatch(new RegExp(`${hole.address}\\s+failed: memcached ${hole.address}: no reply`));
      expect(output).toContain('run it again once they answer');
      expect(await get(SERVERS[0], 'kci:v1:global')).not.toBeNull();
      expect(audit).toMatchObject({ results: { markers: { [SERVERS[0]]: 'ok' } } });
    } finally {
      await hole.close();
    }
  });

  it.each([
    [['invalidate'], 'invalidate needs at least one --scope'],
    [['invalidate', '--scope', 'tenant=abc'], '--scope "tenant=abc": use global or KIND=ID'],
    [['invalidate', '--scope', 'user='], '--scope "user=": the id is empty'],
  ])('%j exits 2 with the reason', async (args, message) => {
    const { code, output } = await cli(args);
    expect(code).toBe(2);
    expect(output).toContain(message);
  });
});

describe('markers: what each server holds', () => {
  it('shows the markers of a scope on each server with their age, and absent ones as such', async () => {
    const [user, never] = [hex(), hex()];
    expect((await cli(['invalidate', '--scope', `user=${user}`])).code).toBe(0);
    const { code, output } = await cli(['markers', '--scope', `user=${user}`, '--scope', `user=${never}`]);
    expect(code).toBe(0);
    for (const server of SERVERS) {
      expect(output).toMatch(
        new RegExp(`${server}  kci:v1:user:${user}  \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  age -?\\d+s`),
      );
      expect(output).toMatch(new RegExp(`${server}  kci:v1:user:${never}\\s+absent`));
    }
  });

  it('without a scope lists every marker with its expiry; --json gives one object per line', async () => {
    const user = hex();
    expect((await cli(['invalidate', '--scope', `user=${user}`])).code).toBe(0);
    const { code, output } = await cli(['markers', '--json']);
    expect(code).toBe(0);
    const rows = output
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const mine = rows.filter((r) => r.key === `kci:v1:user:${user}`);
    expect(mine.map((r) => r.server).sort()).toEqual([...SERVERS].sort());
    for (const row of mine) {
      expect(row.ageSeconds).toBeLessThan(60);
      expect(row.expiresInSeconds).toBeGreaterThan(3000); // markers.ttlSeconds 3600
    }
    expect(rows.some((r) => String(r.key).startsWith('kci:alive:'))).toBe(false);
  });

  it('exits 1 when a server cannot be read', async () => {
    const hole = await startBlackhole();
    try {
      const { code, output } = await cli(['markers', '--scope', 'global'], [SERVERS[0], hole.address]);
      expect(code).toBe(1);
      expect(output).toContain(`${hole.address}  error:`);
    } finally {
      await hole.close();
    }
  });
});
