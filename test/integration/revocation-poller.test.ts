import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KeystoneClient } from '../../src/adapters/keystone/client.ts';
import { type RevocationSettings, RevocationSource } from '../../src/adapters/keystone/revocation-source.ts';
import type { KeystoneCredentials } from '../../src/config/keystone-credentials.ts';
import { capturingLogger, counter, memoryPipeline } from '../support/memory-pipeline.ts';
import { waitFor } from '../support/wait.ts';

// The poller against a scripted Keystone (answers real Keystone never gives: malformed, over-large,
// expiring tokens), feeding the daemon's pipeline on in-memory cache servers. The real Keystone is in
// revocations.test.ts.
type Answer = { status: number; body: string } | 'hang';

class ScriptedKeystone {
  readonly server: http.Server;
  readonly events: Answer[] = [];
  /** What the events API answers once the script is used up. */
  fallback: Answer = { status: 200, body: '{"events": []}' };
  authAnswer: { status: number; expiresInMs: number } = { status: 201, expiresInMs: 3_600_000 };
  auths = 0;
  readonly authBodies: unknown[] = [];
  readonly sinces: string[] = [];
  readonly tokensSeen: string[] = [];

  constructor() {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => this.#answer(req, res, body));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v3`;
  }

  #answer(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && url.pathname === '/v3/auth/tokens') {
      this.auths++;
      this.authBodies.push(JSON.parse(body));
      const { status, expiresInMs } = this.authAnswer;
      const expires = new Date(Date.now() + expiresInMs).toISOString();
      res.writeHead(status, { 'x-subject-token': `token-${this.auths}`, 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: { expires_at: expires } }));
      return;
    }
    if (url.pathname === '/v3/OS-REVOKE/events') {
      this.sinces.push(url.searchParams.get('since') ?? '');
      this.tokensSeen.push(String(req.headers['x-auth-token']));
      const answer = this.events.shift() ?? this.fallback;
      if (answer === 'hang') return;
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
      return;
    }
    res.writeHead(404).end();
  }
}

const APP_CRED: KeystoneCredentials = {
  kind: 'application-credential',
  id: 'cred-1',
  name: undefined,
  username: undefined,
  userDomainName: 'Default',
  secret: 'the-secret',
};
const SETTINGS: RevocationSettings = {
  intervalMs: 20,
  jitter: 0,
  lookBackSeconds: 600,
  retentionSeconds: 5400,
  overlapSeconds: 1,
  dedupeWindow: 1000,
  retry: { initialDelayMs: 10, maxDelayMs: 20 },
};
const at = (msAgo: number) => new Date(Date.now() - msAgo).toISOString().replace('Z', '000Z');
const events = (...list: Array<Record<string, unknown>>) => ({
  status: 200,
  body: JSON.stringify({ events: list }),
});

const running: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of running.splice(0)) await stop();
});

async function poller(
  keystone: ScriptedKeystone,
  options: {
    credentials?: KeystoneCredentials;
    maxResponseBytes?: number;
    settings?: Partial<RevocationSettings>;
    now?: () => number;
  } = {},
) {
  const url = await keystone.listen();
  const p = memoryPipeline();
  for (const server of p.servers) await server.version();
  const client = new KeystoneClient({
    authUrl: url,
    credentials: options.credentials ?? APP_CRED,
    http: { timeoutMs: 300, maxResponseBytes: options.maxResponseBytes ?? 65_536, tls: () => ({}) },
  });
  const metrics = p.metrics.revocations;
  metrics.started();
  const { logger, lines } = capturingLogger();
  const source = new RevocationSource(
    { ...SETTINGS, ...options.settings },
    client,
    metrics,
    logger,
    options.now,
  );
  source.start(p.processor.handle, p.processor.fillGap);
  const polls = (outcome: string) =>
    p.metrics.registry
      .getSingleMetric('kci_revocation_polls_total')
      ?.get()
      .then((m) => m.values.filter((v) => v.labels.outcome === outcome).reduce((n, v) => n + v.value, 0)) ??
    Promise.resolve(0);
  running.push(async () => {
    await source.stopTaking();
    p.stop();
    await source.close();
    await new Promise((r) => keystone.server.close(r));
  });
  return { p, source, lines, polls };
}

describe('the revocation poller against a scripted Keystone', () => {
  it('applies a revoked token to the markers, reuses its token, and keeps since stable while nothing new arrives', async () => {
    const keystone = new ScriptedKeystone();
    keystone.events.push(events({ audit_id: 'aud1', issued_before: at(0), revoked_at: at(0) }));
    const { p, polls } = await poller(keystone);
    await waitFor('the audit marker', async () =>
      p.servers[0]?.keys().includes('kci:v1:audit:aud1') ? true : undefined,
    );
    await waitFor('five polls', async () => ((await polls('ok')) >= 5 ? true : undefined));
    expect(keystone.auths).toBe(1);
    expect(new Set(keystone.tokensSeen)).toEqual(new Set(['token-1']));
    expect(keystone.authBodies[0]).toEqual({
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: { id: 'cred-1', secret: 'the-secret' },
        },
      },
    });
    // From the look-back to the event's second less the overlap, then no more movement.
    const later = keystone.sinces.slice(1);
    expect(new Set(later).size).toBe(1);
    expect(Date.parse(later[0] as string)).toBeGreaterThan(Date.parse(keystone.sinces[0] as string));
    // The overlap hands the event out again; it is applied once.
    expect(await counter(p.metrics.outcomes, { outcome: 'applied' })).toBe(1);
  });

  it('asks for a new token once on a 401, and fails as unauthorized on a second', async () => {
    const keystone = new ScriptedKeystone();
    keystone.events.push({ status: 401, body: '{}' });
    const { polls } = await poller(keystone);
    await waitFor('a good poll', async () => ((await polls('ok')) > 0 ? true : undefined));
    expect(keystone.auths).toBe(2);
    expect(await polls('unauthorized')).toBe(0);
  });

  it('renews its token shortly before it expires', async () => {
    const keystone = new ScriptedKeystone();
    keystone.authAnswer = { status: 201, expiresInMs: 100 };
    const { polls } = await poller(keystone);
    await waitFor('polls', async () => ((await polls('ok')) >= 10 ? true : undefined));
    expect(keystone.auths).toBeGreaterThan(1);
  });

  it('an unknown application credential (404 from Keystone) is unauthorized, and says which setting', async () => {
    const keystone = new ScriptedKeystone();
    keystone.authAnswer = { status: 404, expiresInMs: 0 };
    const { polls, lines } = await poller(keystone);
    await waitFor('an unauthorized poll', async () => ((await polls('unauthorized')) > 0 ? true : undefined));
    expect(lines.join('\n')).toContain('revocations.*');
    expect(lines.join('\n')).not.toContain('the-secret');
  });

  it.each([
    ['a 400 (a bad since)', { status: 400, body: '{"error": {"message": "invalidate date format"}}' }],
    ['an answer that is not JSON', { status: 200, body: '<html>proxy error</html>' }],
    ['an answer with no events list', { status: 200, body: '{"links": {}}' }],
    ['an over-large answer', { status: 200, body: `{"events": [], "pad": "${'x'.repeat(100_000)}"}` }],
    ['an unexpected status', { status: 302, body: '' }],
  ] as const)(
    '%s is counted as a bad answer and loses nothing: the next good one is applied',
    async (_what, bad) => {
      const keystone = new ScriptedKeystone();
      keystone.events.push(bad, events({ user_id: 'u1', issued_before: at(0), revoked_at: at(0) }));
      const { p, polls, lines } = await poller(keystone);
      await waitFor('the user marker', async () =>
        p.servers[1]?.keys().includes('kci:v1:user:u1') ? true : undefined,
      );
      expect(await polls('bad-answer')).toBe(1);
      expect(lines.some((l) => l.includes('"outcome":"bad-answer"') && l.includes('"level":"error"'))).toBe(
        true,
      );
    },
  );

  it('a Keystone that never answers times out as unreachable, and polling goes on', async () => {
    const keystone = new ScriptedKeystone();
    keystone.events.push('hang', events({ audit_id: 'late', issued_before: at(0), revoked_at: at(0) }));
    const { p, polls } = await poller(keystone);
    await waitFor('the marker after the stall', async () =>
      p.servers[0]?.keys().includes('kci:v1:audit:late') ? true : undefined,
    );
    expect(await polls('unreachable')).toBe(1);
  });

  it('an event it cannot read is parked and counted; the others of the answer are applied', async () => {
    const keystone = new ScriptedKeystone();
    keystone.events.push(events({ audit_id: 42, revoked_at: at(0) }, { audit_id: 'ok', revoked_at: at(0) }));
    const { p } = await poller(keystone);
    await waitFor('the good marker', async () =>
      p.servers[0]?.keys().includes('kci:v1:audit:ok') ? true : undefined,
    );
    expect(await counter(p.metrics.parked, { reason: 'field-type' })).toBe(1);
  });

  it('a poll that succeeds after longer than Keystone keeps events is a gap: the global marker', async () => {
    const keystone = new ScriptedKeystone();
    keystone.events.push(events());
    let skipped = 0;
    const now = () => Date.now() + skipped;
    const { p, source } = await poller(keystone, { settings: { retentionSeconds: 60 }, now });
    await waitFor('a first poll', async () => (source.isTaking() ? true : undefined));
    // Keystone stops answering for longer than it keeps events (the poller's clock jumps ahead).
    keystone.fallback = { status: 503, body: '' };
    await waitFor('a failed poll', async () => (source.isTaking() ? undefined : true));
    skipped = 61_000;
    keystone.fallback = { status: 200, body: '{"events": []}' };
    await waitFor('the global marker', async () =>
      p.servers[0]?.keys().includes('kci:v1:global') ? true : undefined,
    );
    expect(await counter(p.metrics.gaps, { reason: 'poll-window-lost' })).toBe(1);
  });

  it('with a password, scoped to a project, as keystoneauth would send it', async () => {
    const keystone = new ScriptedKeystone();
    const { polls } = await poller(keystone, {
      credentials: {
        kind: 'password',
        username: 'kci-poller',
        userDomainName: 'Default',
        password: 'pw',
        scope: { project: 'service', projectDomainName: 'Default' },
      },
    });
    await waitFor('a poll', async () => ((await polls('ok')) > 0 ? true : undefined));
    expect(keystone.authBodies[0]).toEqual({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'kci-poller', domain: { name: 'Default' }, password: 'pw' } },
        },
        scope: { project: { name: 'service', domain: { name: 'Default' } } },
      },
    });
  });
});
