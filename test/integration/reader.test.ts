import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type TokenBody, ValidationCache } from '../../src/reader/validation-cache.ts';
import { MarkerReader } from '../../src/reader.ts';
import { SERVERS, set } from '../support/memcached-probe.ts';
import { REPO_ROOT } from '../support/paths.ts';

const readers: MarkerReader[] = [];
const hex = () => randomBytes(8).toString('hex');

function newReader(servers: readonly string[] = SERVERS, prefix = `kci-reader-${hex()}`): MarkerReader {
  const reader = new MarkerReader({ servers, prefix });
  readers.push(reader);
  return reader;
}

const token = (user: string, project: string, expiresInMs = 3_600_000): TokenBody => ({
  user: { id: user, domain: { id: 'default' } },
  project: { id: project, domain: { id: 'default' } },
  roles: [{ id: 'r1' }],
  audit_ids: [hex()],
  expires_at: new Date(Date.now() + expiresInMs).toISOString(),
});

async function markEverywhere(key: string, ms: number): Promise<void> {
  for (const server of SERVERS) await set(server, key, String(ms));
}

afterEach(() => {
  for (const r of readers.splice(0)) r.close();
});

describe('MarkerReader on real memcached', () => {
  it('finds a validation stale when an applicable marker is at or after its cached-at time', async () => {
    const reader = newReader();
    const t = token('u1', 'p1');
    expect(await reader.isStale(t, 5000)).toBe(false);
    await markEverywhere(`${reader.prefix}:v1:project:p1`, 5000);
    expect(await reader.isStale(t, 5000)).toBe(true);
    expect(await reader.isStale(t, 5001)).toBe(false);
    expect(await reader.isStale(token('u2', 'p2'), 1)).toBe(false);
  });

  it('asks the next server when one does not answer, and says stale when none does', async () => {
    const prefix = `kci-reader-${hex()}`;
    await markEverywhere(`${prefix}:v1:global`, 9000);
    expect(await newReader(['127.0.0.1:1', SERVERS[1]], prefix).isStale(token('u', 'p'), 8000)).toBe(true);
    expect(await newReader(['127.0.0.1:1', SERVERS[1]], prefix).isStale(token('u', 'p'), 9500)).toBe(false);
    expect(await newReader(['127.0.0.1:1'], prefix).isStale(token('u', 'p'), 9500)).toBe(true);
  });
});

describe('ValidationCache', () => {
  it('serves from cache until a marker for the token’s user appears, then re-validates', async () => {
    const reader = newReader();
    const cache = new ValidationCache({ reader });
    const validations: string[] = [];
    const validate = async (id: string) => {
      validations.push(id);
      return token(id === 'tok-a' ? 'ua' : 'ub', 'p');
    };
    await cache.get('tok-a', validate);
    await cache.get('tok-b', validate);
    await cache.get('tok-a', validate);
    expect(validations).toEqual(['tok-a', 'tok-b']);
    await markEverywhere(`${reader.prefix}:v1:user:ua`, Date.now());
    await cache.get('tok-a', validate);
    await cache.get('tok-b', validate);
    expect(validations).toEqual(['tok-a', 'tok-b', 'tok-a']);
  });

  it('treats a validation that began before a marker and finished after it as stale', async () => {
    const reader = newReader();
    const cache = new ValidationCache({ reader });
    let calls = 0;
    const validate = async () => {
      calls++;
      if (calls === 1) {
        // The change lands while the validation request is in flight.
        await new Promise((r) => setTimeout(r, 5));
        await markEverywhere(`${reader.prefix}:v1:user:u1`, Date.now());
        await new Promise((r) => setTimeout(r, 5));
      }
      return token('u1', 'p1');
    };
    await cache.get('tok', validate);
    await cache.get('tok', validate);
    expect(calls).toBe(2);
  });

  it('never serves a validation past the token’s own expires_at, and caches none without it', async () => {
    const cache = new ValidationCache({ reader: newReader() });
    let calls = 0;
    const shortLived = async () => {
      calls++;
      return token('u1', 'p1', 30);
    };
    await cache.get('tok-short', shortLived);
    await new Promise((r) => setTimeout(r, 60));
    await cache.get('tok-short', shortLived);
    expect(calls).toBe(2);
    const noExpiry = async () => {
      calls++;
      return { user: { id: 'u2' } };
    };
    await cache.get('tok-none', noExpiry);
    await cache.get('tok-none', noExpiry);
    expect(calls).toBe(4);
    // Only the re-validated short-lived token is held (for its remaining 30 ms); none without expiry.
    expect(cache.size).toBe(1);
  });

  it('is exported as keystone-cache-invalidator/reader', () => {
    const names = execFileSync(
      process.execPath,
      [
        '-e',
        "import('keystone-cache-invalidator/reader').then((m) => console.log(Object.keys(m).join(' ')))",
      ],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    );
    expect(names.split(' ')).toEqual(
      expect.arrayContaining(['MarkerReader', 'ValidationCache', 'markerKeysForToken']),
    );
  });
});
