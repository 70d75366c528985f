import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Strategy } from './middleware-entries.ts';

const HARNESS = join(import.meta.dirname, 'authtoken_harness.py');
const AGAINST_KEYSTONE = join(import.meta.dirname, 'authtoken_keystone.py');

/**
 * Real keystonemiddleware auth_token (Debian python3-keystonemiddleware), with a stub Keystone
 * (`start`) or a real one (`againstKeystone`: requests only; validation counts are the stub's).
 */
export class AuthTokenHarness {
  readonly #child: ChildProcess;
  readonly #replies: Array<(line: string) => void> = [];
  readonly #stderr: string[] = [];

  private constructor(child: ChildProcess) {
    this.#child = child;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) =>
      this.#replies.shift()?.(line),
    );
    child.stderr?.on('data', (c) => this.#stderr.push(String(c)));
  }

  /** Debian's Python packages import only under /usr/bin/python3. */
  /** With `markerPrefix`, the kci_markers filter (contrib/python) sits before auth_token. */
  static async start(
    strategy: Strategy,
    servers: readonly string[],
    markerPrefix?: string,
  ): Promise<AuthTokenHarness> {
    return AuthTokenHarness.#spawn([
      HARNESS,
      strategy,
      servers.join(','),
      ...(markerPrefix ? [markerPrefix] : []),
    ]);
  }

  /** auth_token validating against a real Keystone (its admin as the service user), caching in `servers`. */
  static againstKeystone(
    url: string,
    adminPassword: string,
    servers: readonly string[],
  ): Promise<AuthTokenHarness> {
    return AuthTokenHarness.#spawn([AGAINST_KEYSTONE, url, adminPassword, servers.join(',')]);
  }

  static async #spawn(args: string[]): Promise<AuthTokenHarness> {
    const child = spawn('/usr/bin/python3', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const harness = new AuthTokenHarness(child);
    const ready = await harness.#next();
    if (!ready.ready) throw new Error(`harness did not start: ${harness.#stderr.join('')}`);
    return harness;
  }

  async issue(
    user: string,
    project: string,
    extra: { domain?: string; role?: string } = {},
  ): Promise<string> {
    return (await this.#command({ op: 'issue', user, project, ...extra })).token as string;
  }

  /** The next validation of `token` writes marker `key` = now on every server while it is in flight. */
  async markDuringValidation(token: string, key: string): Promise<void> {
    await this.#command({ op: 'mark_during_validation', token, key });
  }

  /** A request through auth_token: its status, and how often Keystone has validated this token so far. */
  async request(token: string): Promise<{ status: number; validations: number }> {
    return (await this.#command({ op: 'request', token })) as { status: number; validations: number };
  }

  async disable(user: string): Promise<void> {
    await this.#command({ op: 'disable', user });
  }

  stop(): void {
    this.#child.stdin?.end();
    this.#child.kill();
  }

  #command(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    const reply = this.#next();
    this.#child.stdin?.write(`${JSON.stringify(cmd)}\n`);
    return reply;
  }

  #next(): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`harness timed out: ${this.#stderr.join('').slice(-2000)}`)),
        20_000,
      );
      this.#replies.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      });
    });
  }
}
