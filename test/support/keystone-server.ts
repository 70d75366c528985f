import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.ts';
import { tempDir } from './temp-dirs.ts';
import { freePort } from './tls.ts';
import { waitFor } from './wait.ts';

const SCRIPT = join(REPO_ROOT, 'scripts/local-keystone.sh');
export const ADMIN_PASSWORD = 'kci-test-admin';

export interface KeystoneOptions {
  /** Publish notifications to the local RabbitMQ (exchange `keystone`), as a central Keystone does. */
  readonly notifications: boolean;
  /** Keystone's own (in-process) cache, as production runs it with memcached. */
  readonly cache: boolean;
}

export interface KeystoneAnswer {
  readonly status: number;
  readonly token: string | null;
  readonly body: Record<string, unknown>;
}

/**
 * A real Keystone (Debian's, through scripts/local-keystone.sh) on a port of the test's own, with an
 * admin, publishing its notifications to the local RabbitMQ; and the API calls the tests make. It can
 * be stopped and started again on the same port and database (an outage).
 */
export class KeystoneServer {
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  readonly #options: KeystoneOptions;
  #child: ChildProcess | null = null;
  #adminToken: string | null = null;

  private constructor(dir: string, port: number, options: KeystoneOptions) {
    this.dir = dir;
    this.port = port;
    this.url = `http://127.0.0.1:${port}/v3`;
    this.#options = options;
  }

  static async start(
    options: KeystoneOptions = { notifications: true, cache: false },
  ): Promise<KeystoneServer> {
    const dir = join(tempDir('kci-keystone'), 'keystone');
    const server = new KeystoneServer(dir, await freePort(), options);
    await server.start();
    return server;
  }

  /** The server process (keystone-wsgi-public), while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<void> {
    const transport = this.#options.notifications
      ? ['--transport-url', 'rabbit://guest:guest@127.0.0.1:5672/']
      : [];
    const cache = this.#options.cache ? ['--cache'] : [];
    const child = spawn(
      SCRIPT,
      [this.dir, String(this.port), '--admin-password', ADMIN_PASSWORD, ...transport, ...cache],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (c) => {
      stderr += c;
    });
    this.#child = child;
    // However the test ends, Keystone must not outlive the test process.
    process.once('exit', () => child.kill('SIGKILL'));
    await waitFor(
      'Keystone to answer',
      async () => {
        if (child.exitCode !== null) throw new Error(`local-keystone.sh exited: ${stderr.slice(-2000)}`);
        return (await fetch(this.url).then(
          (r) => r.ok,
          () => false,
        ))
          ? true
          : undefined;
      },
      60_000,
    );
  }

  /** Stop it (an outage); `start` brings it back with everything it held. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    this.#child = null;
  }

  /** A call to the API; with the admin's token unless another is given. */
  async call(method: string, path: string, body?: unknown, token?: string): Promise<KeystoneAnswer> {
    const auth = token ?? (await this.adminToken());
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-auth-token': auth },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      token: res.headers.get('x-subject-token'),
      body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    };
  }

  async adminToken(): Promise<string> {
    this.#adminToken ??= await this.passwordToken('admin', ADMIN_PASSWORD, 'admin');
    return this.#adminToken;
  }

  /** A project-scoped token for a user of the Default domain. */
  async passwordToken(user: string, password: string, project: string): Promise<string> {
    const res = await fetch(`${this.url}/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: user, domain: { id: 'default' }, password } },
          },
          scope: { project: { name: project, domain: { id: 'default' } } },
        },
      }),
    });
    const token = res.headers.get('x-subject-token');
    if (res.status !== 201 || token === null)
      throw new Error(`Keystone refused a token for ${user}: ${res.status}`);
    return token;
  }

  /** A user with a password and `role` on a new project; their ids. */
  async createUser(
    role = 'member',
  ): Promise<{ name: string; password: string; id: string; project: string; projectId: string }> {
    const name = `kci-${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    const project = await this.call('POST', '/projects', {
      project: { name: `${name}-project`, domain_id: 'default' },
    });
    const projectId = (project.body.project as { id: string }).id;
    const user = await this.call('POST', '/users', { user: { name, password, domain_id: 'default' } });
    const id = (user.body.user as { id: string }).id;
    await this.grant(id, projectId, role);
    return { name, password, id, project: `${name}-project`, projectId };
  }

  /** Grants a role (created when Keystone lacks it, as it lacks `service`) on a project. */
  async grant(userId: string, projectId: string, roleName: string): Promise<void> {
    const roles = await this.call('GET', `/roles?name=${roleName}`);
    let role = (roles.body.roles as Array<{ id: string }>)[0]?.id;
    role ??= ((await this.call('POST', '/roles', { role: { name: roleName } })).body.role as { id: string })
      .id;
    const granted = await this.call('PUT', `/projects/${projectId}/users/${userId}/roles/${role}`);
    if (granted.status !== 204) throw new Error(`grant ${roleName}: ${granted.status}`);
  }

  /** An application credential of the user (authenticating with the user's own token). */
  async applicationCredential(user: { id: string; name: string; password: string; project: string }) {
    const token = await this.passwordToken(user.name, user.password, user.project);
    const name = `kci-poller-${randomBytes(4).toString('hex')}`;
    const answer = await this.call(
      'POST',
      `/users/${user.id}/application_credentials`,
      { application_credential: { name } },
      token,
    );
    const credential = answer.body.application_credential as { id: string; secret: string };
    return { id: credential.id, secret: credential.secret };
  }

  /** `DELETE /v3/auth/tokens`: what an admin does with a stolen token. */
  async revoke(token: string): Promise<void> {
    const res = await fetch(`${this.url}/auth/tokens`, {
      method: 'DELETE',
      headers: { 'x-auth-token': await this.adminToken(), 'x-subject-token': token },
    });
    if (res.status !== 204) throw new Error(`revoke: ${res.status}`);
  }

  /** A token's own audit id (the first of its audit_ids), as Keystone reports it. */
  async auditId(token: string): Promise<string> {
    const res = await fetch(`${this.url}/auth/tokens`, {
      headers: { 'x-auth-token': await this.adminToken(), 'x-subject-token': token },
    });
    return ((await res.json()) as { token: { audit_ids: string[] } }).token.audit_ids[0] as string;
  }

  /** Whether Keystone still accepts `token` (GET /v3/auth/tokens). */
  async accepts(token: string): Promise<boolean> {
    const res = await fetch(`${this.url}/auth/tokens`, {
      headers: { 'x-auth-token': await this.adminToken(), 'x-subject-token': token },
    });
    await res.arrayBuffer();
    return res.status === 200;
  }
}
