import type { KeystoneCredentials } from '../../config/keystone-credentials.ts';
import {
  FORBIDDEN_HINT,
  KeystoneBadAnswer,
  KeystoneForbidden,
  KeystoneUnauthorized,
  KeystoneUnreachable,
} from './errors.ts';
import { type HttpAnswer, HttpClient, type HttpSettings } from './http.ts';

export interface KeystoneClientSettings {
  /** Keystone's v3 endpoint (`/v3` is appended when the URL has none). */
  readonly authUrl: string;
  readonly credentials: KeystoneCredentials;
  readonly http: HttpSettings;
}

/** A token is used until this long before it expires (or half its life, for short-lived ones). */
const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

interface Token {
  readonly id: string;
  readonly renewAtMs: number;
}

/**
 * What the revocation poller asks Keystone v3: a token for its credentials, reused until shortly before
 * it expires, and the revocation events since a time. A 401 on the events drops the token and asks for
 * a new one once (Keystone restarted with new fernet keys, the token was revoked).
 */
export class KeystoneClient {
  readonly #base: string;
  readonly #where: string;
  readonly #credentials: KeystoneCredentials;
  readonly #http: HttpClient;
  readonly #now: () => number;
  #token: Token | null = null;

  constructor(settings: KeystoneClientSettings, now: () => number = Date.now) {
    const url = new URL(settings.authUrl);
    const path = url.pathname.replace(/\/+$/, '');
    this.#base = `${url.origin}${path.endsWith('/v3') ? path : `${path}/v3`}`;
    this.#where = url.origin;
    this.#credentials = settings.credentials;
    this.#http = new HttpClient(settings.http);
    this.#now = now;
  }

  /** Where the poller asks, for logs: the origin only, never userinfo. */
  get endpoint(): string {
    return this.#where;
  }

  /** The body of `GET /v3/OS-REVOKE/events?since=…` (events with `revoked_at > since`). */
  async revocationEvents(sinceMs: number, signal?: AbortSignal): Promise<string> {
    const url = new URL(`${this.#base}/OS-REVOKE/events`);
    url.searchParams.set('since', new Date(sinceMs).toISOString());
    for (let attempt = 0; ; attempt++) {
      const token = await this.#validToken(signal);
      const answer = await this.#http.request('GET', url, { 'x-auth-token': token }, undefined, signal);
      if (answer.status === 200) return answer.body;
      if (answer.status === 401 && attempt === 0) {
        this.#token = null;
        continue;
      }
      throw this.#failure('GET /v3/OS-REVOKE/events', answer);
    }
  }

  close(): void {
    this.#http.close();
  }

  async #validToken(signal: AbortSignal | undefined): Promise<string> {
    if (this.#token !== null && this.#now() < this.#token.renewAtMs) return this.#token.id;
    const answer = await this.#http.request(
      'POST',
      new URL(`${this.#base}/auth/tokens`),
      {},
      JSON.stringify({ auth: authBody(this.#credentials) }),
      signal,
    );
    // A 404 here is Keystone not knowing the application credential (or user): the credentials are wrong.
    if (answer.status === 404) throw this.#failure('POST /v3/auth/tokens', { ...answer, status: 401 }, 404);
    if (answer.status !== 201) throw this.#failure('POST /v3/auth/tokens', answer);
    const id = answer.headers['x-subject-token'];
    const expiresAtMs = Date.parse(expiresAt(answer.body) ?? '');
    if (typeof id !== 'string' || id === '' || Number.isNaN(expiresAtMs)) {
      throw new KeystoneBadAnswer(`${this.#where}: the token answer has no X-Subject-Token or no expires_at`);
    }
    const now = this.#now();
    const lifetime = expiresAtMs - now;
    this.#token = {
      id,
      renewAtMs: now + Math.max(0, Math.min(lifetime - REFRESH_BEFORE_EXPIRY_MS, lifetime / 2)),
    };
    return id;
  }

  #failure(what: string, answer: HttpAnswer, status = answer.status): Error {
    const at = `${this.#where}: ${what} answered ${status}`;
    if (answer.status === 401) {
      return new KeystoneUnauthorized(
        `${at}: Keystone refused the poller's credentials (revocations.* in the configuration)`,
      );
    }
    if (answer.status === 403) return new KeystoneForbidden(`${at}: ${FORBIDDEN_HINT}`);
    if (answer.status >= 500) return new KeystoneUnreachable(at);
    // Keystone's own error message (a bad `since`, say) is short and names no secret.
    return new KeystoneBadAnswer(`${at}${keystoneMessage(answer.body)}`);
  }
}

function authBody(c: KeystoneCredentials): Record<string, unknown> {
  if (c.kind === 'application-credential') {
    const credential =
      c.id !== undefined
        ? { id: c.id, secret: c.secret }
        : { name: c.name, secret: c.secret, user: { name: c.username, domain: { name: c.userDomainName } } };
    return { identity: { methods: ['application_credential'], application_credential: credential } };
  }
  const user = { name: c.username, domain: { name: c.userDomainName }, password: c.password };
  const scope =
    'system' in c.scope
      ? { system: { all: true } }
      : { project: { name: c.scope.project, domain: { name: c.scope.projectDomainName } } };
  return { identity: { methods: ['password'], password: { user } }, scope };
}

function expiresAt(body: string): string | null {
  try {
    const value = (JSON.parse(body) as { token?: { expires_at?: unknown } }).token?.expires_at;
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}

/** `: <message>` from Keystone's `{"error": {"message": …}}`, bounded; empty when there is none. */
function keystoneMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' ? `: ${message.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}
