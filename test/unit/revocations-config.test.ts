import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { minimal, problems, SECRET } from '../support/config-text.ts';
import { tempDir } from '../support/temp-dirs.ts';

describe("the revocation poller's configuration", () => {
  const dir = () => tempDir('kci-revocations-config');
  const withPoller = (lines: string) => `${minimal}revocations:\n  enabled: true\n${lines}`;

  it('is off by default, with no credentials read', () => {
    const c = parseConfig(minimal, 'test.yaml');
    expect(c.revocations.enabled).toBe(false);
    expect(c.revocations.credentials).toBeNull();
    expect(c.revocations.intervalMs).toBe(1000);
    expect(c.revocations.lookBackSeconds).toBe(600);
  });

  it('reads an application credential secret from its file, and keeps the file name out of the result', () => {
    const file = join(dir(), 'secret');
    writeFileSync(file, `${SECRET}\n`);
    const c = parseConfig(
      withPoller(
        `  authUrl: https://keystone.central:5000/v3\n  applicationCredentialId: abc\n  applicationCredentialSecretFile: ${file}\n`,
      ),
      'test.yaml',
    );
    expect(c.revocations.credentials).toEqual({
      kind: 'application-credential',
      id: 'abc',
      name: undefined,
      username: undefined,
      userDomainName: 'Default',
      secret: SECRET,
    });
    expect('applicationCredentialSecretFile' in c.revocations).toBe(false);
  });

  it('reads a password, scoped to a project', () => {
    const file = join(dir(), 'password');
    writeFileSync(file, SECRET);
    const c = parseConfig(
      withPoller(
        `  authUrl: http://ks:5000\n  allowPlaintext: true\n  username: kci\n  passwordFile: ${file}\n  projectName: service\n`,
      ),
      'test.yaml',
    );
    expect(c.revocations.credentials).toMatchObject({
      kind: 'password',
      username: 'kci',
      password: SECRET,
      scope: { project: 'service', projectDomainName: 'Default' },
    });
  });

  it.each([
    [
      'no authUrl',
      '  applicationCredentialId: a\n  applicationCredentialSecretFile: /s\n',
      'revocations: authUrl is required',
    ],
    [
      'an authUrl that is not http(s)',
      '  authUrl: ftp://ks/v3\n  applicationCredentialId: a\n  applicationCredentialSecretFile: /s\n',
      'revocations.authUrl:',
    ],
    ['no credentials', '  authUrl: http://ks:5000/v3\n', 'revocations: set one credential'],
    [
      'two kinds of credentials',
      '  authUrl: http://ks/v3\n  applicationCredentialId: a\n  applicationCredentialSecretFile: /s\n  username: u\n  passwordFile: /p\n  projectName: p\n',
      'revocations: set one credential',
    ],
    [
      'a password without a scope',
      '  authUrl: http://ks/v3\n  username: u\n  passwordFile: /p\n',
      'revocations: a password needs one scope',
    ],
    [
      'a missing secret file',
      '  authUrl: http://ks/v3\n  applicationCredentialId: a\n  applicationCredentialSecretFile: /nonexistent/secret\n',
      'revocations.applicationCredentialSecretFile: cannot read the file: ENOENT',
    ],
    [
      'a look-back longer than Keystone keeps events',
      '  lookBackSeconds: 7200\n  retentionSeconds: 5400\n',
      'revocations: lookBackSeconds cannot exceed',
    ],
    ['a misspelt field', '  authURL: http://ks/v3\n', 'revocations: unknown field "authURL"'],
  ])('rejects %s, naming the field', (_what, lines, expected) => {
    expect(problems(withPoller(lines)).join('\n')).toContain(expected);
  });

  it('an empty secret file is refused', () => {
    const file = join(dir(), 'empty');
    writeFileSync(file, '\n');
    const lines = `  authUrl: http://ks/v3\n  applicationCredentialId: a\n  applicationCredentialSecretFile: ${file}\n`;
    expect(problems(withPoller(lines)).join('\n')).toContain(
      'revocations.applicationCredentialSecretFile: the file is empty',
    );
  });
});
