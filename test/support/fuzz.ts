import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { parseEnvelope, type RawMessage } from '../../src/core/envelope.ts';
import { MalformedNotification } from '../../src/core/errors.ts';
import { toIdentityEvent } from '../../src/core/events.ts';
import { targetsFor } from '../../src/core/rules.ts';
import { TARGET_KINDS } from '../../src/core/targets.ts';
import { loadFixtures } from './fixtures.ts';

const LIMITS = { maxBodyBytes: 64 * 1024 };
const EVENT_TYPES = [
  'identity.user.updated',
  'identity.group.updated',
  'identity.role_assignment.deleted',
  'identity.OS-TRUST:trust.deleted',
  'identity.project.deleted',
  'identity.domain.updated',
  'identity.role.deleted',
  'identity.application_credential.deleted',
  'identity.OS-OAUTH1:consumer.deleted',
  'identity.OS-OAUTH1:access_token.deleted',
  'identity.identity_provider.deleted',
  'identity.group.deleted',
  'identity.authenticate',
  'identity.',
  'identity',
  'compute.instance.create.end',
];

/** Any JSON-ish value, including the wrong types where ids and objects are expected. */
const anyValue = fc.oneof(fc.jsonValue(), fc.string(), fc.integer(), fc.constant(null), fc.boolean());

/** Usually the right thing, sometimes anything: so that most inputs get past the first check. */
const mostly = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 30, arbitrary: good }, { weight: 1, arbitrary: anyValue });
const hex32 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 32 });
const id = fc.oneof(hex32, fc.string(), fc.constant(''));

/** Payloads shaped like Keystone's (basic, CADF, role assignments), with every field free to be wrong. */
const payload = fc.record(
  {
    resource_info: mostly(id),
    typeURI: fc.constantFrom('http://schemas.dmtf.org/cloud/audit/1.0/event', 7),
    outcome: mostly(fc.constantFrom('success', 'failure', 'pending')),
    target: mostly(fc.record({ id: mostly(id) })),
    user: mostly(id),
    group: mostly(id),
    project: mostly(id),
    domain: mostly(id),
    role: mostly(id),
    inherited_to_projects: mostly(fc.boolean()),
    actor_id: mostly(id),
    actor_type: mostly(fc.constantFrom('user', 'group')),
  },
  { requiredKeys: [] },
);

const message = fc.record(
  {
    message_id: mostly(fc.uuid()),
    event_type: mostly(fc.oneof(fc.constantFrom(...EVENT_TYPES), fc.string())),
    payload: mostly(payload),
    timestamp: mostly(fc.oneof(fc.constant('2026-11-22 05:42:18.050543'), fc.string())),
    priority: mostly(fc.constant('INFO')),
    publisher_id: mostly(fc.constant('identity.host')),
    _unique_id: mostly(hex32),
  },
  { requiredKeys: ['event_type', 'payload'] },
);

const envelope = fc.oneof(
  { weight: 3, arbitrary: message.map((m) => JSON.stringify(m)) },
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        mostly(
          fc.oneof({ weight: 8, arbitrary: fc.constant('2.0') }, fc.constantFrom('2.1', '3.0', '1.0', '2')),
        ),
        message,
      )
      .map(([version, m]) => JSON.stringify({ 'oslo.version': version, 'oslo.message': JSON.stringify(m) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(anyValue, anyValue)
      .map(([v, m]) => JSON.stringify({ 'oslo.version': v, 'oslo.message': m })),
  },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string() },
);

// What Keystone really sent (test/fixtures): the exact bytes, and the inner messages decoded once.
const CAPTURED = loadFixtures().map((f) => f.body);
const CAPTURED_MESSAGES = CAPTURED.map((body) => {
  const outer = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  const inner = outer['oslo.message'];
  return (typeof inner === 'string' ? JSON.parse(inner) : outer) as Record<string, unknown>;
});

/** A real capture with a few bytes overwritten, and perhaps cut short. */
const damagedCapture = fc
  .tuple(
    fc.constantFrom(...CAPTURED),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    fc.option(fc.nat()),
  )
  .map(([original, writes, cut]) => {
    const body = Buffer.from(original);
    for (const [at, byte] of writes) body[at % body.length] = byte;
    return cut === null ? body : body.subarray(0, cut % (body.length + 1));
  });

/** A real inner message with one payload field (or the whole payload) replaced by anything. */
const alteredCapture = fc
  .tuple(fc.constantFrom(...CAPTURED_MESSAGES), fc.option(fc.string()), anyValue)
  .map(([m, field, value]) => {
    const original = m.payload as Record<string, unknown>;
    const keys = Object.keys(original);
    const payload =
      field === null || keys.length === 0
        ? value
        : { ...original, [keys[field.length % keys.length] as string]: value };
    return JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify({ ...m, payload }) });
  });

/**
 * Raw messages: the shapes above, compressed or not; the real captures, damaged or altered; and plain
 * random (often invalid UTF-8) bytes.
 */
export const rawMessages: fc.Arbitrary<RawMessage> = fc.oneof(
  { weight: 2, arbitrary: damagedCapture.map((body) => ({ body, headers: {} })) },
  { weight: 2, arbitrary: alteredCapture.map((text) => ({ body: Buffer.from(text), headers: {} })) },
  { weight: 6, arbitrary: envelope.map((text) => ({ body: Buffer.from(text), headers: {} })) },
  {
    weight: 2,
    arbitrary: envelope.map((text) => ({
      body: deflateSync(text),
      headers: { compression: 'application/x-gzip' },
    })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.uint8Array({ maxLength: 512 }),
        fc.oneof(fc.constant({}), fc.record({ compression: anyValue })),
      )
      .map(([bytes, headers]) => ({ body: Buffer.from(bytes), headers })),
  },
);

/**
 * The property: the pure core either yields well-formed targets or throws MalformedNotification (which
 * parks the message). Anything else escaping would be a crash of the delivery path.
 */
export function coreAcceptsOrParks(raw: RawMessage): void {
  let targets: ReturnType<typeof targetsFor>;
  try {
    targets = targetsFor(toIdentityEvent(parseEnvelope(raw, LIMITS)), 'targeted');
  } catch (error) {
    if (error instanceof MalformedNotification) return;
    throw error;
  }
  for (const t of targets) {
    const ok =
      t.kind === 'global' ||
      ((TARGET_KINDS as readonly string[]).includes(t.kind) && typeof t.id === 'string' && t.id !== '');
    if (!ok) throw new Error(`malformed target ${JSON.stringify(t)}`);
  }
}

export function fuzzCore(numRuns: number, seed?: number): void {
  fc.assert(fc.property(rawMessages, coreAcceptsOrParks), {
    numRuns,
    ...(seed === undefined ? {} : { seed }),
  });
}
