import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { startProxy, type TestProxy } from './tcp-proxy.ts';
import { tempDir } from './temp-dirs.ts';
import { waitFor } from './wait.ts';

export interface TestPki {
  readonly dir: string;
  /** PEM file paths. */
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A CA that signed nothing here: verifying against it must fail. */
  readonly otherCa: string;
}

/** A throwaway CA with a server certificate for 127.0.0.1 and a client certificate, made by openssl. */
export function makePki(): TestPki {
  const dir = tempDir('kci-pki');
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const newKey = (name: string) => [
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-subj',
    `/CN=${name}`,
  ];
  const ca = (name: string) => ssl('req', '-x509', ...newKey(name), '-out', `${name}.pem`, '-days', '2');
  const leaf = (name: string, ext: string) => {
    ssl('req', ...newKey(name), '-out', `${name}.csr`);
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  ca('ca');
  ca('other-ca');
  leaf('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'extendedKeyUsage=clientAuth\n');
  const p = (f: string) => join(dir, f);
  return {
    dir,
    ca: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    otherCa: p('other-ca.pem'),
  };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A real memcached that speaks only TLS and requires a client certificate signed by the test CA. */
export function startTlsMemcached(pki: TestPki): Promise<{ address: string; stop(): void }> {
  const opts = `ssl_chain_cert=${pki.serverCert},ssl_key=${pki.serverKey},ssl_ca_cert=${pki.ca},ssl_verify_mode=2`;
  return startMemcached(['-Z', '-o', opts]);
}

/** A memcached of the test's own (the shared ones may be full of other tests' data), stopped by `stop`. */
export async function startMemcached(
  args: string[],
  port?: number,
): Promise<{ address: string; stop(): void }> {
  port ??= await freePort();
  const user = process.getuid?.() === 0 ? ['-u', 'root'] : [];
  const child: ChildProcess = spawn(
    'memcached',
    [...user, ...args, '-l', '127.0.0.1', '-p', String(port), '-U', '0'],
    {
      stdio: 'ignore',
    },
  );
  await waitFor(
    'memcached to listen',
    () =>
      new Promise<true | undefined>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(undefined));
      }),
  );
  return { address: `127.0.0.1:${port}`, stop: () => child.kill() };
}

/** TLS in front of the local RabbitMQ: an amqps:// endpoint for the daemon's TLS client path. */
export function startTlsBrokerProxy(pki: TestPki): Promise<TestProxy> {
  return startProxy(5672, { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) });
}
