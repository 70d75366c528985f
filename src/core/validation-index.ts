/**
 * Which of keystonemiddleware's cached validations (`tokens/…` keys on one memcached server) carry which
 * subjects: what a targeted purge looks up instead of reading every entry. Each subject is held once,
 * with the keys that carry it; an entry points at its subjects, so removing it is as cheap as adding it.
 * An entry that could not be read (memcache_security_strategy ENCRYPT) carries no subject and matches
 * every purge.
 *
 * Subjects are held by their id alone, whatever their kind: Keystone's ids are uuids (or, for audit
 * ids, 16 random bytes), so two kinds sharing an id would only make a purge delete more, never less,
 * and a token's audit id and audit chain id (the same for an original token) cost one subject. Most
 * subjects of a token are its own (its audit id, often its project): they hold their one key without a
 * set. Measured: docs/performance.md.
 */
interface Subject {
  readonly id: string;
  /** One key, or the set of them. */
  keys: string | Set<string>;
}

interface Entry {
  /** Null: unreadable. */
  readonly subjects: readonly Subject[] | null;
  /** In seconds: a small integer V8 keeps unboxed (milliseconds would cost a heap number each). */
  expiresAt: number;
  /** When it was last stored or listed (a sequence number of the caller's): see `removeUnseenSince`. */
  seen: number;
  /** Which `put` made it: see `removeIfNotStoredSince`. */
  readonly stamp: number;
}

export interface Matches {
  /** Readable entries that carry a target (or every readable entry, for `global`). */
  readonly matched: string[];
  /** Entries nobody can read: they may carry the target. */
  readonly unreadable: string[];
  /** The index as of this answer: what the purge deleted goes with `removeIfNotStoredSince(…, asOf)`. */
  readonly asOf: number;
}

export class ValidationIndex {
  readonly #entries = new Map<string, Entry>();
  readonly #subjects = new Map<string, Subject>();
  readonly #unreadable = new Set<string>();
  /** Counts `put`s: an entry stored again after a lookup is newer than its answer. */
  #stamp = 0;

  /**
   * `key` holds a validation carrying the subjects with these ids (null: unreadable) until
   * `expiresAtMs` (Infinity: no expiry). Replaces what the key held before.
   */
  put(key: string, subjectIds: readonly string[] | null, expiresAtMs: number, seen: number): void {
    this.remove(key);
    if (subjectIds === null) {
      this.#unreadable.add(key);
      this.#entries.set(key, { subjects: null, expiresAt: seconds(expiresAtMs), seen, stamp: ++this.#stamp });
      return;
    }
    const held = [...new Set(subjectIds)].map((id) => this.#hold(id, key));
    this.#entries.set(key, { subjects: held, expiresAt: seconds(expiresAtMs), seen, stamp: ++this.#stamp });
  }

  /** The key was listed or stored again: it is still there (`removeUnseenSince` keeps it). */
  touch(key: string, seen: number, expiresAtMs?: number): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    entry.seen = seen;
    if (expiresAtMs !== undefined) entry.expiresAt = seconds(expiresAtMs);
    return true;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  remove(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    if (entry.subjects === null) {
      this.#unreadable.delete(key);
      return;
    }
    for (const s of entry.subjects) this.#release(s, key);
  }

  /**
   * The purge deleted these keys after an answer `asOf`: they leave the index, but for a key stored
   * (and read) again since, whose new entry the server holds.
   */
  removeIfNotStoredSince(keys: readonly string[], asOf: number): void {
    for (const key of keys) {
      const entry = this.#entries.get(key);
      if (entry !== undefined && entry.stamp <= asOf) this.remove(key);
    }
  }

  /**
   * The entries a purge must delete, of the subjects with these ids (`global`: every entry, for a
   * global purge); expired ones are dropped.
   */
  matching(subjectIds: ReadonlySet<string>, nowMs: number, global = false): Matches {
    const matched = new Set<string>();
    if (global) {
      for (const [key, entry] of this.#entries) if (entry.subjects !== null) matched.add(key);
    } else {
      for (const id of subjectIds) {
        const keys = this.#subjects.get(id)?.keys;
        if (typeof keys === 'string') matched.add(keys);
        else for (const key of keys ?? []) matched.add(key);
      }
    }
    const live = (key: string) => {
      const entry = this.#entries.get(key);
      if (entry !== undefined && entry.expiresAt * 1000 > nowMs) return true;
      this.remove(key);
      return false;
    };
    return {
      matched: [...matched].filter(live),
      unreadable: [...this.#unreadable].filter(live),
      asOf: this.#stamp,
    };
  }

  /** After a fresh listing: entries neither listed nor stored since `seen` are gone from the server. */
  removeUnseenSince(seen: number): number {
    let removed = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.seen >= seen) continue;
      this.remove(key);
      removed++;
    }
    return removed;
  }

  /** Drops what has expired (memcached reports no expiry). */
  removeExpired(nowMs: number): number {
    let removed = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt * 1000 > nowMs) continue;
      this.remove(key);
      removed++;
    }
    return removed;
  }

  clear(): void {
    this.#entries.clear();
    this.#subjects.clear();
    this.#unreadable.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Distinct subjects held (users, projects, roles, audit ids, …). */
  get subjects(): number {
    return this.#subjects.size;
  }

  #hold(id: string, key: string): Subject {
    const s = this.#subjects.get(id);
    if (s === undefined) {
      const held = { id, keys: key };
      this.#subjects.set(id, held);
      return held;
    }
    if (typeof s.keys === 'string') s.keys = new Set([s.keys, key]);
    else s.keys.add(key);
    return s;
  }

  #release(s: Subject, key: string): void {
    if (typeof s.keys === 'string') {
      if (s.keys === key) this.#subjects.delete(s.id);
      return;
    }
    s.keys.delete(key);
    if (s.keys.size === 1) s.keys = s.keys.values().next().value as string;
  }
}

/** Epoch seconds, rounded up (never expires earlier); no expiry as the largest small integer. */
function seconds(ms: number): number {
  return Number.isFinite(ms) ? Math.ceil(ms / 1000) : 2 ** 30 + (2 ** 30 - 1);
}
