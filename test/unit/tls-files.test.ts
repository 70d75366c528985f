import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tlsFileReader } from '../../src/config/tls-files.ts';
import { tempDir } from '../support/temp-dirs.ts';

const PASSPHRASE = 'c0rrect-h0rse-never-printed';

describe('TLS files', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);
  const reader = (t: Record<string, string>) =>
    tlsFileReader({ rejectUnauthorized: true, ...t }, 'memcached.tls');
  const failure = (t: Record<string, string>): string => {
    try {
      reader(t);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected the files to be refused');
  };

  beforeAll(() => {
    dir = tempDir('kci-tls-files');
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'plain.key');
    ssl('pkey', '-in', 'plain.key', '-aes256', '-passout', `pass:${PASSPHRASE}`, '-out', 'encrypted.key');
    writeFileSync(file('passphrase'), `${PASSPHRASE}\n`);
    writeFileSync(file('wrong'), 'not-the-passphrase\n');
    writeFileSync(file('empty'), '\n');
  });

  it('opens an encrypted key with the passphrase from its file (its final newline dropped)', () => {
    const options = reader({ keyFile: file('encrypted.key'), keyPassphraseFile: file('passphrase') })();
    expect(options.passphrase).toBe(PASSPHRASE);
    expect(options.key).toEqual(readFileSync(file('encrypted.key')));
  });

  it.each([
    ['no passphrase file', {}, 'memcached.tls.keyFile is encrypted: set memcached.tls.keyPassphraseFile'],
    [
      'a wrong passphrase',
      { keyPassphraseFile: 'wrong' },
      'memcached.tls.keyPassphraseFile: the passphrase does not open memcached.tls.keyFile',
    ],
    [
      'an empty passphrase file',
      { keyPassphraseFile: 'empty' },
      'memcached.tls.keyPassphraseFile: the file is empty',
    ],
    [
      'a missing passphrase file',
      { keyPassphraseFile: 'absent' },
      'memcached.tls.keyPassphraseFile: cannot read the file: ENOENT',
    ],
  ])('refuses an encrypted key with %s, naming the field', (_what, t, expected) => {
    const files = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, file(v)]));
    const message = failure({ keyFile: file('encrypted.key'), ...files });
    expect(message).toContain(expected);
    expect(message).not.toContain(PASSPHRASE);
  });

  it('never echoes keyPassphraseFile: an operator who put the passphrase there sees only the error code', () => {
    const message = failure({ keyFile: file('encrypted.key'), keyPassphraseFile: PASSPHRASE });
    expect(message).toBe('memcached.tls.keyPassphraseFile: cannot read the file: ENOENT');
  });

  it('names the field of a file that cannot be read', () => {
    expect(failure({ caFile: file('absent.pem') })).toMatch(/^memcached.tls.caFile: ENOENT/);
  });

  it('looks at the files at every call: a key replaced on disk is the next one used', () => {
    copyFileSync(file('plain.key'), file('rotating.key'));
    const read = reader({ keyFile: file('rotating.key') });
    const first = read();
    expect(first.key).toEqual(readFileSync(file('plain.key')));
    // Unchanged files are not read (nor the key opened) again: the same options come back.
    expect(read()).toBe(first);
    copyFileSync(file('encrypted.key'), file('rotating.key'));
    expect(() => read()).toThrow(/keyFile is encrypted/);
  });
});
