import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIDDLEWARE_FIXTURES_DIR } from './paths.ts';

export type Strategy = 'None' | 'MAC' | 'ENCRYPT';

interface MiddlewareFixture {
  readonly user_id: string;
  readonly project_id: string;
  readonly expected_key: string;
  readonly '1_value': {
    readonly value_json?: { token: Record<string, unknown> };
    readonly value_json_after_base64?: { token: Record<string, unknown> };
    readonly value_prefix_64?: string;
    readonly ciphertext_bytes?: number;
  };
}

/** What real keystonemiddleware 10.1.0 cached, per memcache_security_strategy (test/fixtures). */
export function middlewareFixture(strategy: Strategy): MiddlewareFixture {
  const path = join(MIDDLEWARE_FIXTURES_DIR, `auth_token--strategy-${strategy}.json`);
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** A cache value in the fixture's format for a token body (None: JSON; MAC: 64-char MAC + base64 JSON). */
export function cachedValue(strategy: Strategy, token: Record<string, unknown>): string {
  const json = JSON.stringify({ token });
  if (strategy === 'None') return json;
  const mac = middlewareFixture('MAC')['1_value'].value_prefix_64 as string;
  if (strategy === 'MAC') return mac + Buffer.from(json).toString('base64');
  // ENCRYPT: MAC + base64(iv + ciphertext); unreadable without the token.
  return mac + randomBytes(16 + Math.ceil(json.length / 16) * 16).toString('base64');
}

/** The fixture's token body, re-aimed at another user and project. */
export function tokenFor(userId: string, projectId: string): Record<string, unknown> {
  type Token = { user: { id: string }; project: { id: string }; audit_ids: string[] };
  const token = structuredClone(middlewareFixture('None')['1_value'].value_json?.token) as unknown as Token;
  token.user.id = userId;
  token.project.id = projectId;
  token.audit_ids = [randomBytes(16).toString('base64url')];
  return token as unknown as Record<string, unknown>;
}
