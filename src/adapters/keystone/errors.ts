/**
 * How a poll of Keystone can fail, one class per kind, each with the `outcome` the polls metric counts.
 * Messages name the Keystone endpoint without any userinfo, and never a credential or a token.
 */
export type PollOutcome = 'ok' | 'unreachable' | 'unauthorized' | 'forbidden' | 'bad-answer';

export abstract class KeystoneError extends Error {
  abstract readonly outcome: Exclude<PollOutcome, 'ok'>;
}

/** No answer: refused, reset, timed out, or a 5xx. Retried with backoff. */
export class KeystoneUnreachable extends KeystoneError {
  readonly outcome = 'unreachable';
  override readonly name = 'KeystoneUnreachable';
}

/** 401: the credentials are wrong, expired or disabled (a token is asked for again once before this). */
export class KeystoneUnauthorized extends KeystoneError {
  readonly outcome = 'unauthorized';
  override readonly name = 'KeystoneUnauthorized';
}

/** 403: the poller's user may not list revocation events. */
export class KeystoneForbidden extends KeystoneError {
  readonly outcome = 'forbidden';
  override readonly name = 'KeystoneForbidden';
}

/** An answer that cannot be used: a 400, an unexpected status, not JSON, over the size limit. */
export class KeystoneBadAnswer extends KeystoneError {
  readonly outcome = 'bad-answer';
  override readonly name = 'KeystoneBadAnswer';
}

/** What to tell the operator for a 403 from the events API. */
export const FORBIDDEN_HINT =
  'the poller is not allowed identity:list_revoke_events: grant its user the admin or the service role ' +
  '(on the project of its token or application credential, or system scope)';
