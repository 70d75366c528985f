import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { cachedValue, tokenFor } from './middleware-entries.ts';

interface Sent {
  readonly op: 'set' | 'delete';
  readonly key: string;
  readonly user: string;
}

const hex = () => randomBytes(16).toString('hex');

/**
 * A load of keystonemiddleware-like cache traffic on real memcached servers: entries stored and deleted
 * for many users, paced at `opsPerSecond`, each key on one server (as auth_token shards them). It knows
 * which entries exist: stored (STORED came back) and no delete sent since.
 */
export class Churn {
  readonly #sockets: net.Socket[];
  readonly #users: readonly string[];
  readonly #opsPerTick: number;
  #sent: Sent[][];
  /** key → [server index, user], for entries that exist. */
  readonly #existing = new Map<string, readonly [number, string]>();
  readonly #timer: NodeJS.Timeout;
  /** Per server, the keys that exist and are not being deleted: what a delete may pick. */
  readonly #deletable: Array<Set<string>>;
  ops = 0;

  constructor(ports: readonly number[], users: readonly string[], opsPerSecond: number) {
    this.#users = users;
    this.#opsPerTick = Math.max(1, Math.round(opsPerSecond / 100));
    this.#sent = ports.map(() => []);
    this.#deletable = ports.map(() => new Set());
    this.#sockets = ports.map((port, i) => {
      const socket = net.connect(port, '127.0.0.1');
      let rest = '';
      socket.on('error', () => {});
      // The server went (restarted, say): what it held and what it owed us is gone.
      socket.on('close', () => {
        this.#sent[i] = [];
        this.#deletable[i]?.clear();
        for (const [key, [s]] of this.#existing) if (s === i) this.#existing.delete(key);
      });
      socket.on('data', (chunk) => {
        const lines = (rest + chunk.toString('latin1')).split('\r\n');
        rest = lines.pop() ?? '';
        for (const line of lines) this.#answered(i, line);
      });
      return socket;
    });
    this.#timer = setInterval(() => this.#tick(), 10);
  }

  /** The entries of `user` that exist now and are not being deleted, as [server index, key]. */
  entriesOf(user: string): Array<readonly [number, string]> {
    return [...this.#existing]
      .filter(([key, [s, u]]) => u === user && this.#deletable[s]?.has(key))
      .map(([key, [server]]) => [server, key] as const);
  }

  /** Every entry that exists now, of anyone but `user`. */
  entriesNotOf(user: string): Array<readonly [number, string]> {
    return [...this.#existing]
      .filter(([, [, u]]) => u !== user)
      .map(([key, [server]]) => [server, key] as const);
  }

  /** Stop sending, and wait until every command sent has its answer: what exists is then known. */
  async quiesce(): Promise<void> {
    clearInterval(this.#timer);
    while (this.#sent.some((queue, i) => queue.length > 0 && !this.#sockets[i]?.destroyed)) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    for (const s of this.#sockets) s.destroy();
  }

  #tick(): void {
    const candidates = this.#deletable.map((keys) => [...keys]);
    for (let n = 0; n < this.#opsPerTick; n++) {
      const server = Math.floor(Math.random() * this.#sockets.length);
      const socket = this.#sockets[server] as net.Socket;
      if (socket.destroyed) continue;
      const mine = candidates[server] as string[];
      if (mine.length > 20 && Math.random() < 0.3) {
        const key = mine.splice(Math.floor(Math.random() * mine.length), 1)[0] as string;
        this.#deletable[server]?.delete(key);
        this.#sent[server]?.push({ op: 'delete', key, user: '' });
        socket.write(`delete ${key}\r\n`);
      } else {
        const user = this.#users[Math.floor(Math.random() * this.#users.length)] as string;
        const key = `tokens/${hex()}${hex()}`;
        const value = cachedValue('MAC', tokenFor(user, 'churn-project'));
        this.#sent[server]?.push({ op: 'set', key, user });
        socket.write(`set ${key} 0 300 ${Buffer.byteLength(value)}\r\n${value}\r\n`);
      }
      this.ops++;
    }
  }

  #answered(server: number, line: string): void {
    const sent = this.#sent[server]?.shift();
    if (sent === undefined) return;
    if (sent.op === 'set' && line === 'STORED') {
      this.#existing.set(sent.key, [server, sent.user]);
      this.#deletable[server]?.add(sent.key);
    }
    if (sent.op === 'delete') this.#existing.delete(sent.key);
  }
}
