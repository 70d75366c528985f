import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { useBroker } from '../support/broker.ts';
import { runCli, writeConfig } from '../support/child-daemon.ts';
import { testConfigYaml } from '../support/daemon.ts';
import { get, SERVERS } from '../support/memcached-probe.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { runName } from '../support/run-name.ts';
import { waitFor } from '../support/wait.ts';

const SECRET = `kci-secret-${randomBytes(8).toString('hex')}`;
const POOL = runName('kci-test-cli');

async function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; output: string }> {
  const run = runCli(args, env);
  const code = await run.exited;
  return { code, output: run.output() };
}

describe('keystone-cache-invalidator CLI', () => {
  it('check-config accepts a good config and prints brokers without credentials', async () => {
    const path = writeConfig(
      testConfigYaml(runName('kci-test-cli'), {
        url: `rabbit://kci:${SECRET}@rmq-0:5672,kci:${SECRET}@rmq-1/nova?heartbeat_timeout_threshold=30`,
        amqp: ['allowPlaintext: true'],
      }),
    );
    const { code, output } = await cli(['check-config', '--config', path]);
    expect(code).toBe(0);
    expect(output).toContain('configuration OK');
    expect(output).toContain('amqp://rmq-0:5672/nova, amqp://rmq-1:5672/nova');
    expect(output).toContain('warning:   transport_url option "heartbeat_timeout_threshold" is not used');
    expect(output).toContain('warning:   broker rmq-1:5672: plaintext (allowPlaintext: true)');
    expect(output).not.toContain(SECRET);
  });

  it('check-config refuses plaintext to a broker off loopback with exit 2, naming the override', async () => {
    const url = `rabbit://kci:${SECRET}@rmq-0:5672/`;
    const { code, output } = await cli([
      'check-config',
      '--config',
      writeConfig(testConfigYaml(POOL, { url })),
    ]);
    expect(code).toBe(2);
    expect(output).toContain('amqp: the transport_url asks for no TLS and host 1 is off loopback');
    expect(output).toContain('set amqp.allowPlaintext: true');
    expect(output).not.toContain(SECRET);
  });

  it('check-config reads the TLS files the endpoints use: a missing key is exit 2, naming its field', async () => {
    const missing = `/nonexistent/kci-${randomBytes(4).toString('hex')}.key`;
    const yaml = testConfigYaml(POOL, {
      url: 'rabbit://guest:guest@127.0.0.1:5671/?ssl=1',
      amqp: [`tls: { certFile: "${missing}", keyFile: "${missing}" }`],
    });
    const { code, output } = await cli(['check-config', '--config', writeConfig(yaml)]);
    expect(code).toBe(2);
    expect(output).toContain('the TLS files cannot be used');
    expect(output).toContain('amqp.tls.keyFile: ENOENT');
    expect(output).not.toContain('configuration OK');
  });

  it('check-config rejects a bad config with exit 2, naming each field, quoting no secret', async () => {
    const yaml = testConfigYaml(runName('kci-test-cli'), { url: `kafka://kci:${SECRET}@rmq-0/` })
      .replace('memcached:', 'memcached:\n  serverz: []')
      .concat('markers: { ttlSeconds: 99999999 }\n');
    const { code, output } = await cli(['check-config', '--config', writeConfig(yaml)]);
    expect(code).toBe(2);
    expect(output).toContain('memcached: unknown field "serverz"');
    expect(output).toContain('markers.ttlSeconds:');
    expect(output).not.toContain(SECRET);
  });

  it('reads the config path from KCI_CONFIG', async () => {
    const { code } = await cli(['check-config'], {
      KCI_CONFIG: writeConfig(testConfigYaml(runName('kci-test-cli'))),
    });
    expect(code).toBe(0);
  });

  it.each([
    [['check-config'], 'no configuration: pass --config PATH or set KCI_CONFIG'],
    [['frobnicate', '--config', 'x'], 'unknown command "frobnicate"'],
    [['run', '--bogus'], "Unknown option '--bogus'"],
  ])('exits 2 with usage for %j', async (args, message) => {
    const { code, output } = await cli(args, { KCI_CONFIG: '' });
    expect(code).toBe(2);
    expect(output).toContain(message);
  });

  it('exits 1, promptly, when the HTTP port is taken', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const { port } = squatter.address() as net.AddressInfo;
    try {
      const yaml = testConfigYaml(runName('kci-test-cli')).replace('port: 0', `port: ${port}`);
      const { code, output } = await cli(['run', '--config', writeConfig(yaml)]);
      expect(code).toBe(1);
      expect(output).toContain('EADDRINUSE');
    } finally {
      squatter.close();
    }
  });

  it('prints its version and help', async () => {
    expect((await cli(['--version'])).output.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const text of [
      'run',
      'check-config',
      'invalidate',
      'markers',
      '--scope',
      '--dry-run',
      '--json',
      'Examples:',
    ])
      expect(help.output).toContain(text);
  });
});

describe('no credential reaches a log line or a metric', () => {
  const POOL = runName('kci-test-redaction');
  const broker = useBroker(POOL);

  it('a password the broker refuses appears nowhere in the output', async () => {
    const url = `rabbit://kci-intruder:${SECRET}@127.0.0.1:5672/`;
    const daemon = runCli([
      'run',
      '--config',
      writeConfig(testConfigYaml(POOL, { url, extra: 'log: { level: trace }\n' })),
    ]);
    await daemon.waitForLog(/ACCESS_REFUSED[\s\S]*ACCESS_REFUSED/);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect(daemon.output()).toContain('"broker":"amqp://127.0.0.1:5672/%2F"');
    expect(daemon.output()).not.toContain(SECRET);
  });

  it('a running daemon logs and exports no credential and no message content', async () => {
    const config = writeConfig(testConfigYaml(POOL, { extra: 'log: { level: trace }\n' }));
    const daemon = runCli(['run', '--config', config]);
    try {
      await daemon.waitForLog(/"msg":"consuming"/);
      const user = randomBytes(16).toString('hex');
      await broker().publish(osloV2Body('identity.user.updated', { resource_info: user, password: SECRET }));
      await broker().publish(Buffer.from(`{"password": "${SECRET}"`));
      await waitFor('the marker', async () => (await get(SERVERS[1], `kci:v1:user:${user}`)) ?? undefined);
      await daemon.waitForLog(/parked a notification/);
      const port = /"http":(\d+)/.exec(daemon.output())?.[1];
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('kci_notifications_total');
      expect(metrics).not.toContain(SECRET);
      expect(metrics).not.toContain(user);
    } finally {
      daemon.child.kill('SIGTERM');
    }
    expect(await daemon.exited).toBe(0);
    expect(daemon.output()).not.toContain(SECRET);
    expect(daemon.output()).not.toContain('guest:guest');
  });
});
