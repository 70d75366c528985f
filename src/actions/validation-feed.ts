import { readCachedToken } from '../core/cached-validation.ts';
import type { Target } from '../core/targets.ts';
import { tokenSubjects } from '../core/token-subjects.ts';
import { ValidationIndex } from '../core/validation-index.ts';
import type { CacheServer } from '../ports/cache-server.ts';
import { PendingReads } from './pending-reads.ts';

/**
 * What feeds a server's index: keys the watch or a listing names are read once (in batches, in the
 * order they came) and entered with the subjects their validation carries. `round` counts listings:
 * an entry neither listed nor stored since a round began is gone from the server.
 */
export class ValidationFeed {
  readonly index = new ValidationIndex();
  readonly #server: CacheServer;
  readonly #pending: PendingReads;
  /** Expiry of keys waiting to be read. */
  readonly #expiry = new Map<string, number>();
  #round = 0;

  constructor(server: CacheServer, batchSize: number, onReadFailed: (error: unknown) => void) {
    this.#server = server;
    this.#pending = new PendingReads((keys) => this.#read(keys), batchSize, onReadFailed);
  }

  /** A new listing round begins. */
  nextRound(): number {
    return ++this.#round;
  }

  /** The server stored `key` (its value may have changed): read it. */
  stored(key: string, expiresAtMs: number): void {
    this.#expiry.set(key, expiresAtMs);
    this.#pending.add(key);
  }

  /** A listing holds `key`: known entries are kept for this round, new ones read. */
  listed(key: string, expiresAtMs: number, round: number): void {
    if (this.index.touch(key, round, expiresAtMs) || this.#expiry.has(key)) return;
    this.stored(key, expiresAtMs);
  }

  removed(key: string): void {
    this.#pending.drop(key);
    this.#expiry.delete(key);
    this.index.remove(key);
  }

  /** Every key named so far has been read. */
  drained(): Promise<void> {
    return this.#pending.drained();
  }

  /** Entries, read and still to read. */
  get size(): number {
    return this.index.size + this.#pending.size;
  }

  clear(): void {
    this.#pending.clear();
    this.#expiry.clear();
    this.index.clear();
  }

  async #read(keys: string[]): Promise<void> {
    const items = await this.#server.gets(keys);
    for (const key of keys) {
      const expiresAt = this.#expiry.get(key) ?? Number.POSITIVE_INFINITY;
      this.#expiry.delete(key);
      const item = items.get(key);
      if (item === undefined) {
        this.index.remove(key);
        continue;
      }
      const token = readCachedToken(item.value, item.flags);
      const subjects = token === null ? null : tokenSubjects(token).map(subjectId);
      this.index.put(key, subjects, expiresAt, this.#round);
    }
  }
}

function subjectId(t: Target): string {
  return t.kind === 'global' ? 'global' : t.id;
}
