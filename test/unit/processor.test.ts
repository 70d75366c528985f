import { afterEach, describe, expect, it } from 'vitest';
import { notificationItem } from '../../src/adapters/notification-item.ts';
import { regionKey } from '../../src/core/keystone-regions.ts';
import type { SourceItem } from '../../src/ports/source.ts';
import { EXPECTED_TARGETS } from '../support/expected-targets.ts';
import { loadFixtures } from '../support/fixtures.ts';
import { counter, memoryPipeline } from '../support/memory-pipeline.ts';
import { cachedValue, tokenFor } from '../support/middleware-entries.ts';
import { osloV2Body } from '../support/oslo-wire.ts';

// The processor with the configured actions and their coalescers, on two in-memory cache servers: the
// daemon's core path without a broker, in milliseconds. The same cases run against RabbitMQ and real
// memcached in test/integration/pipeline.test.ts.
const LIMITS = { maxBodyBytes: 1_048_576 };
const item = (body: Buffer, headers: Record<string, unknown> = {}): SourceItem =>
  notificationItem({ body, headers }, LIMITS, 'unit', false);
const expectedKeys = (name: string) => (EXPECTED_TARGETS[name] ?? []).map((t) => `kci:v1:${t}`).sort();

let stopPipeline: (() => void) | undefined;
function pipeline(extra = '') {
  const p = memoryPipeline(extra);
  stopPipeline = p.stop;
  return p;
}
afterEach(() => stopPipeline?.());

describe('the processor, on in-memory servers', () => {
  it.each(loadFixtures().map((f) => [f.name, f] as const))(
    '%s yields exactly its markers on every server',
    async (name, f) => {
      const p = pipeline();
      const settlement = await p.processor.handle(item(f.body, f.properties.headers ?? {}));
      expect(settlement).toEqual({ outcome: 'applied' });
      for (const server of p.servers) expect(server.keys(), server.name).toEqual(expectedKeys(name));
    },
  );

  it('dates a marker at the apply time plus the skew margin', async () => {
    const p = pipeline();
    await p.processor.handle(item(osloV2Body('identity.user.updated', { resource_info: 'u1' })));
    const written = (await p.servers[0]?.gets(['kci:v1:user:u1']))?.get('kci:v1:user:u1');
    expect(Number(written?.value.toString())).toBe(p.clock.now() + 2_000);
  });

  it('acknowledges noise without writing', async () => {
    const p = pipeline();
    for (const eventType of ['identity.authenticate', 'identity.user.created', 'identity.region.deleted']) {
      expect(await p.processor.handle(item(osloV2Body(eventType, { resource_info: 'x' })))).toEqual({
        outcome: 'applied',
      });
    }
    expect(p.servers.map((s) => s.commands)).toEqual([0, 0]);
    expect(await counter(p.metrics.outcomes, { outcome: 'ignored' })).toBe(3);
  });

  it('does not remember the ids of events it ignores', async () => {
    const p = pipeline();
    const id = '5b8e2f1c-0d2a-4d1e-9c61-2f0f3a7f4e10';
    await p.processor.handle(item(osloV2Body('identity.authenticate', { outcome: 'failure' }, id)));
    await p.processor.handle(item(osloV2Body('identity.user.updated', { resource_info: 'u1' }, id)));
    expect(await counter(p.metrics.outcomes, { outcome: 'duplicate' })).toBe(0);
    for (const server of p.servers) expect(server.keys()).toEqual(['kci:v1:user:u1']);
  });

  it('parks what can never be applied, with its reason, and counts it', async () => {
    const p = pipeline();
    const bad = [
      Buffer.from('{"oslo.version": "2.0", "oslo.message": "{not json'),
      Buffer.from([0xff, 0xfe]),
    ];
    const settlements = await Promise.all(bad.map((body) => p.processor.handle(item(body))));
    expect(settlements).toEqual([
      { outcome: 'parked', reason: 'json' },
      { outcome: 'parked', reason: 'encoding' },
    ]);
    expect(await counter(p.metrics.parked, { reason: 'json' })).toBe(1);
    expect(await counter(p.metrics.received, { event_type: 'unparseable' })).toBe(2);
    expect(p.servers.map((s) => s.commands)).toEqual([0, 0]);
    // The message is never logged, only why it was parked.
    expect(p.logLines.join('\n')).not.toContain('not json');
  });

  it('a drain writes up to log.itemLinesPerSecond lines of its own, then one summary', async () => {
    const p = pipeline('log: { itemLinesPerSecond: 5 }');
    const events = Array.from({ length: 40 }, (_, i) =>
      item(osloV2Body('identity.user.updated', { resource_info: `u${i}` })),
    );
    await Promise.all(events.map((e) => p.processor.handle(e)));
    const written = p.logLines.filter((l) => l.includes('"msg":"invalidation written"'));
    expect(written).toHaveLength(5);
    expect(await counter(p.metrics.outcomes, { outcome: 'applied' })).toBe(40);
    p.itemLines.flush();
    expect(p.logLines.at(-1)).toContain('"leftOut":{"invalidation written":35}');
  });

  it('a message that comes again after it was applied is acknowledged without a second write', async () => {
    const p = pipeline();
    const body = osloV2Body('identity.user.updated', { resource_info: 'u1' });
    await p.processor.handle(item(body));
    for (const server of p.servers) server.wipe();
    expect(await p.processor.handle(item(body))).toEqual({ outcome: 'applied' });
    expect(p.servers.map((s) => s.keys())).toEqual([[], []]);
    expect(await counter(p.metrics.outcomes, { outcome: 'duplicate' })).toBe(1);
  });

  it('with one server away the item is applied and the absent server is owed the marker', async () => {
    const p = pipeline();
    const [a, b] = p.servers as [(typeof p.servers)[0], (typeof p.servers)[0]];
    await b.version();
    a.goAway();
    expect(
      await p.processor.handle(item(osloV2Body('identity.user.deleted', { resource_info: 'u1' }))),
    ).toEqual({
      outcome: 'applied',
    });
    expect(b.keys()).toEqual(['kci:v1:user:u1']);
    expect(p.markers.pending(a.name)).toBe(1);
  });

  it('with every server away the item waits, and a stop gives it back to be delivered again', async () => {
    const p = pipeline();
    for (const server of p.servers) server.goAway();
    const handled = p.processor.handle(item(osloV2Body('identity.user.deleted', { resource_info: 'u1' })));
    await new Promise((r) => setTimeout(r, 30));
    p.stop();
    expect(await handled).toEqual({ outcome: 'retry' });
    expect(await counter(p.metrics.outcomes)).toBe(0);
  });

  it('fills a gap with the global marker on every server, counted by its source-neutral reason', async () => {
    const p = pipeline();
    await p.processor.fillGap({ reason: 'messages-dropped', detail: 'maxlen' }, new AbortController().signal);
    for (const server of p.servers) expect(server.keys()).toEqual(['kci:v1:global']);
    expect(await counter(p.metrics.gaps, { reason: 'messages-dropped' })).toBe(1);
  });

  it('with every action on, one user update also resets Keystone and purges the user cached tokens', async () => {
    const p = pipeline(`keystoneRegions: { enabled: true, repeatAfterMs: 0 }
middlewarePurge: { enabled: true, repeatAfterMs: 0 }`);
    const tokens = regionKey('tokens');
    for (const server of p.servers) {
      await server.add(tokens, 'pickle', 600);
      await server.add('tokens/mine', cachedValue('MAC', tokenFor('u1', 'p1')), 600);
      await server.add('tokens/other', cachedValue('MAC', tokenFor('u2', 'p1')), 600);
    }
    await p.processor.handle(item(osloV2Body('identity.user.updated', { resource_info: 'u1' })));
    for (const server of p.servers) expect(server.keys()).toEqual(['kci:v1:user:u1', 'tokens/other']);
  });
});
