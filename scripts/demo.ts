/** The daemon's main job on local defaults, end to end. See USAGE. */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import amqp from 'amqplib';
import { get } from '../test/support/memcached-probe.ts';
import { sample } from '../test/support/metrics-text.ts';
import { osloV2Body } from '../test/support/oslo-wire.ts';
import { buildDaemon, startLocalServices } from './prepare.ts';
import { parseScriptArgs, type Script } from './script-args.ts';

const SCRIPT: Script = {
  name: 'demo',
  usage: `usage: npm run demo   (or ./run demo on a fresh machine)

The daemon's main job on local defaults: starts RabbitMQ and two memcached servers on 127.0.0.1 where
they are absent (installing Debian's packages if needed: root or sudo), runs the real daemon with
config/local.yaml, publishes Keystone notifications in the exact oslo wire format (a user disabled, a
role revoked, a project disabled, a trust deleted, a failed login, a malformed message), prints the
invalidation markers found on every memcached server and the daemon's counters, then stops the daemon
with SIGTERM and deletes its queue.

  -h, --help  print this help`,
};
parseScriptArgs(SCRIPT, { options: {} });

const ROOT = resolve(import.meta.dirname, '..');
const CONFIG = resolve(ROOT, 'config/local.yaml');
const SERVERS = ['127.0.0.1:11211', '127.0.0.1:11212'];
const POOL = 'keystone-cache-invalidator-local';
const METRICS = 'http://127.0.0.1:9464';
const hex = () => randomBytes(16).toString('hex');

const user = hex();
const project = hex();
const trust = hex();
const groupProject = hex();
const cadf = (action: string, extra: Record<string, unknown>) => ({
  typeURI: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
  eventType: 'activity',
  action,
  outcome: 'success',
  ...extra,
});

// What the central Keystone publishes when an operator acts (see test/fixtures/keystone-notifications/real-keystone).
const SCENARIO: Array<{ what: string; body: Buffer; marker?: string }> = [
  {
    what: 'disable a user (Keystone sends identity.user.updated)',
    body: osloV2Body('identity.user.updated', { resource_info: user }),
    marker: `kci:v1:user:${user}`,
  },
  {
    what: 'revoke a role from a group on a project (always CADF)',
    body: osloV2Body(
      'identity.role_assignment.deleted',
      cadf('deleted.role_assignment', {
        group: hex(),
        project: groupProject,
        role: hex(),
        inherited_to_projects: false,
      }),
    ),
    marker: `kci:v1:project:${groupProject}`,
  },
  {
    what: 'disable a project (identity.project.updated)',
    body: osloV2Body('identity.project.updated', { resource_info: project }),
    marker: `kci:v1:project:${project}`,
  },
  {
    what: 'delete a trust',
    body: osloV2Body('identity.OS-TRUST:trust.deleted', { resource_info: trust }),
    marker: `kci:v1:trust:${trust}`,
  },
  {
    what: 'a failed login (noise: acknowledged, nothing written)',
    body: osloV2Body('identity.authenticate', cadf('authenticate', { outcome: 'failure' })),
  },
  {
    what: 'a malformed message (parked and counted)',
    body: Buffer.from('{"oslo.version": "2.0", "oslo.message": "{'),
  },
];

function startDaemon(): ChildProcess {
  const child = spawn(
    process.execPath,
    [resolve(ROOT, 'bin/keystone-cache-invalidator.js'), 'run', '--config', CONFIG],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  child.stdout?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      try {
        const entry = JSON.parse(line);
        console.log(
          `  daemon │ ${entry.level.padEnd(5)} ${entry.msg}${entry.eventType ? ` (${entry.eventType})` : ''}`,
        );
      } catch {
        console.log(`  daemon │ ${line}`);
      }
    }
  });
  return child;
}

async function metric(name: string): Promise<number> {
  return sample(await (await fetch(`${METRICS}/metrics`)).text(), name);
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function main(): Promise<void> {
  startLocalServices();
  buildDaemon();
  console.log('keystone-cache-invalidator demo: local RabbitMQ → daemon → two memcached servers\n');
  const daemon = startDaemon();
  const exited = new Promise<number | null>((r) => daemon.on('exit', r));
  try {
    await until('the daemon to be ready (/readyz)', async () => (await fetch(`${METRICS}/readyz`)).ok);
    const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672/');
    const channel = await connection.createConfirmChannel();
    const before = await metric('kci_notifications_total');
    console.log('\npublishing to exchange "keystone", routing key notifications.info, as Keystone does:');
    for (const step of SCENARIO) {
      console.log(`  • ${step.what}`);
      channel.publish('keystone', 'notifications.info', step.body, {
        contentType: 'application/json',
        deliveryMode: 2,
      });
    }
    await channel.waitForConfirms();
    await until(
      'every notification to be settled',
      async () => (await metric('kci_notifications_total')) >= before + SCENARIO.length,
    );

    console.log('\ninvalidation markers (epoch ms → UTC) on every memcached server:');
    for (const { marker } of SCENARIO.filter((s) => s.marker)) {
      console.log(`  ${marker}`);
      for (const server of SERVERS) {
        const value = await get(server, marker as string);
        console.log(
          `      ${server.padEnd(16)} ${value ?? 'MISSING'}${value ? `  (${new Date(Number(value)).toISOString()})` : ''}`,
        );
      }
    }
    console.log(`\n${METRICS}/metrics:`);
    for (const line of (await (await fetch(`${METRICS}/metrics`)).text()).split('\n')) {
      if (/^kci_(notifications_total|notifications_parked_total|invalidations_total)/.test(line))
        console.log(`  ${line}`);
    }
    await connection.close();
  } finally {
    daemon.kill('SIGTERM');
    console.log(`\ndaemon stopped on SIGTERM, exit code ${await exited}`);
  }
  // Once the daemon is gone: the demo's queue would otherwise collect whatever else is published here.
  const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672/');
  await (await connection.createChannel()).deleteQueue(POOL);
  await connection.close();
}

main().catch((error: unknown) => {
  console.error(`demo: ${(error as Error).message}`);
  process.exitCode = 1;
});
