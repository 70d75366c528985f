import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:tls';
import type { EventContext, Sender } from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, testConfigYaml } from '../support/daemon.ts';
import { get, SERVERS } from '../support/memcached-probe.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { makePki, type TestPki } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';

const rhea = createRequire(import.meta.url)('rhea') as typeof import('rhea');

// An AMQP 1.0 peer that is not RabbitMQ (as a Qpid Dispatch Router would be): a rhea container
// listening with TLS that offers the SASL mechanisms ANONYMOUS and EXTERNAL (the client certificate)
// and records which one each client used. The daemon needs amqp.sourceAddress there, attaches to it,
// and applies what the peer sends as oslo's AMQP 1.0 notifier would.
const ADDRESS = 'regional/keystone/notifications.info';

describe('an AMQP 1.0 peer that is not RabbitMQ, over TLS', () => {
  let pki: TestPki;
  let listener: Server;
  let port: number;
  const mechanisms: string[] = [];
  const senders: Sender[] = [];

  beforeAll(async () => {
    pki = makePki();
    const peer = rhea.create_container({ id: 'kci-test-peer' });
    const recording = (name: string) => () => ({
      outcome: undefined as boolean | undefined,
      start(this: { outcome?: boolean }) {
        mechanisms.push(name);
        this.outcome = true;
      },
    });
    Object.assign(peer.sasl_server_mechanisms, {
      ANONYMOUS: recording('ANONYMOUS'),
      EXTERNAL: recording('EXTERNAL'),
    });
    peer.on('sender_open', (ctx: EventContext) => {
      if (ctx.sender?.source?.address === ADDRESS) senders.push(ctx.sender);
    });
    listener = peer.listen({
      port: 0,
      host: '127.0.0.1',
      transport: 'tls',
      key: readFileSync(pki.serverKey),
      cert: readFileSync(pki.serverCert),
      ca: readFileSync(pki.ca),
      requestCert: true,
      rejectUnauthorized: false,
    }) as unknown as Server;
    await new Promise<void>((resolve) => listener.once('listening', () => resolve()));
    port = (listener.address() as { port: number }).port;
  });

  afterAll(() => {
    listener?.close();
  });

  it.each([
    { sasl: 'ANONYMOUS', clientCertificate: false },
    { sasl: 'EXTERNAL', clientCertificate: true },
  ])(
    'SASL $sasl: the daemon attaches to amqp.sourceAddress and applies what the peer sends',
    async ({ sasl, clientCertificate }) => {
      const client = clientCertificate ? `, certFile: ${pki.clientCert}, keyFile: ${pki.clientKey}` : '';
      const yaml = testConfigYaml('kci-test-peer-pool', {
        url: `amqps://127.0.0.1:${port}/`,
        amqp: [`sourceAddress: ${ADDRESS}`, `saslMechanism: ${sasl}`, `tls: { caFile: ${pki.ca}${client} }`],
      });
      const attached = senders.length;
      const d = await startTestDaemon(yaml);
      try {
        expect(mechanisms.at(-1)).toBe(sasl);
        await waitFor('the receiver attached', async () => (senders.length > attached ? true : undefined));
        const sender = senders.at(-1) as Sender;
        const user = randomBytes(16).toString('hex');
        const envelope = JSON.parse(osloV2Body('identity.user.updated', { resource_info: user }).toString());
        const accepted = new Promise<void>((resolve) => sender.once('accepted', () => resolve()));
        await waitFor('credit from the daemon', async () => (sender.sendable() ? true : undefined));
        sender.send({ body: JSON.stringify({ request: envelope, context: {} }) });
        await accepted;
        for (const server of SERVERS) expect(await get(server, `kci:v1:user:${user}`), server).not.toBeNull();
      } finally {
        await d.stop();
      }
    },
  );
});
