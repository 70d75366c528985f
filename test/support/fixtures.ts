import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FIXTURES_DIR } from './paths.ts';

/** An AMQP 0-9-1 capture from test/fixtures: the exact body bytes and properties Keystone published. */
export interface Fixture {
  /** Path below fixtures/keystone-notifications, e.g. `real-keystone/cadf/10--identity.group.updated.json`. */
  readonly name: string;
  readonly eventType: string;
  readonly body: Buffer;
  readonly properties: FixtureProperties;
}

export interface FixtureProperties {
  readonly content_type: string | null;
  readonly content_encoding: string | null;
  readonly headers: Record<string, unknown> | null;
  readonly delivery_mode: number | null;
  readonly priority: number | null;
}

/** Every capture that carries body bytes (the AMQP 1.0 views belong to the AMQP 1.0 source). */
export function loadFixtures(): Fixture[] {
  return listJson(FIXTURES_DIR)
    .map((path) => ({ path, data: JSON.parse(readFileSync(path, 'utf8')) }))
    .filter(({ data }) => typeof data.body_base64 === 'string')
    .map(({ path, data }) => ({
      name: relative(FIXTURES_DIR, path),
      eventType: data.event_type,
      body: Buffer.from(data.body_base64, 'base64'),
      properties: data.properties,
    }));
}

/**
 * What RabbitMQ 3.10's AMQP 1.0 plugin handed a receiver for a notification published over 0-9-1
 * (`amqp10-view--*.json`): the body bytes of its data section.
 */
export function loadAmqp10Views(): Array<{ readonly name: string; readonly body: Buffer }> {
  return readdirSync(FIXTURES_DIR)
    .filter((name) => name.startsWith('amqp10-view--'))
    .map((name) => {
      const data = JSON.parse(readFileSync(join(FIXTURES_DIR, name), 'utf8'));
      return { name, body: Buffer.from(data.body.__bytes_base64__, 'base64') };
    });
}

export function fixture(name: string): Fixture {
  const found = loadFixtures().find((f) => f.name === name);
  if (!found) throw new Error(`no fixture ${name}`);
  return found;
}

function listJson(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listJson(path);
    return entry.name.endsWith('.json') ? [path] : [];
  });
}
