import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runCli, writeConfig } from '../support/child-daemon.ts';
import { testConfigYaml } from '../support/daemon.ts';
import { runName } from '../support/run-name.ts';

// Every fragment of a test password is this secret, so a password printed in part is found too. Mixed
// case and digits: nothing the daemon may print (an oslo option name, a host) looks like it.
const S = `TopSecret${randomBytes(6).toString('hex')}`;
const POOL = runName('kci-test-secrets');

/**
 * A secret on both sides of every character a URL reserves, of a space and of non-ASCII text; and after
 * digits, which read as a port when the character ends the host list early.
 */
const PASSWORDS = ['?', '#', '/', ',', '@', '%', ':', '[', ']', ' ', 'ü€', '?#/,@%:[] ü'].flatMap((c) => [
  `${S}${c}${S}`,
  `123${c}${S}`,
]);

function configWith(url: string): string {
  return writeConfig(testConfigYaml(POOL, { url: JSON.stringify(url), extra: 'log: { level: trace }\n' }));
}

async function cli(args: string[]): Promise<{ code: number | null; output: string }> {
  const run = runCli(args);
  const code = await run.exited;
  return { code, output: run.output() };
}

/** `run` until the broker has refused the login (or the config was refused), then stopped. */
async function briefRun(config: string, refused: RegExp): Promise<string> {
  const daemon = runCli(['run', '--config', config]);
  const early = await Promise.race([daemon.exited, daemon.waitForLog(refused).then(() => 'refused')]);
  if (early === 'refused') daemon.child.kill('SIGTERM');
  expect(await daemon.exited).toBe(early === 'refused' ? 0 : 2);
  return daemon.output();
}

describe('a broker password appears nowhere, whatever characters it holds', () => {
  it.each(PASSWORDS)('check-config, run and declare with the password %j', async (password) => {
    const config = configWith(`rabbit://kci-intruder:${password}@127.0.0.1:5672/`);
    const checked = await cli(['check-config', '--config', config]);
    expect(checked.output).not.toContain(S);
    expect([0, 2]).toContain(checked.code);
    const ran = await briefRun(config, /ACCESS_REFUSED/);
    expect(ran).not.toContain(S);
    const declared = await cli(['declare', '--config', config]);
    expect(declared.output).not.toContain(S);
    expect(declared.code).toBe(checked.code === 0 ? 1 : 2);
  });

  it('over AMQP 1.0 too', async () => {
    const config = configWith(`amqp://kci-intruder:${S}@:[] ü${S}@127.0.0.1:5672/`);
    const checked = await cli(['check-config', '--config', config]);
    expect(checked.code).toBe(0);
    expect(await briefRun(config, /refused the SASL login/)).not.toContain(S);
  });

  it('transport_url options are named only when the name looks like an oslo option; no value is shown', async () => {
    const config = configWith(
      `rabbit://kci-intruder:${S}@127.0.0.1:5672/?${S}=${S}&heartbeat_rate=${S}&x-${S}=1`,
    );
    const checked = await cli(['check-config', '--config', config]);
    expect(checked.code).toBe(0);
    expect(checked.output).toContain('transport_url option "heartbeat_rate" is not used');
    expect(checked.output).toContain('2 more transport_url options are not used');
    expect(checked.output).not.toContain(S);
    const ran = await briefRun(config, /ACCESS_REFUSED/);
    expect(ran).toContain('"option":"heartbeat_rate"');
    expect(ran).not.toContain(S);
  });
});
