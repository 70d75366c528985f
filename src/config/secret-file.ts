import { readFileSync } from 'node:fs';

/**
 * A secret's file (a transport URL, Keystone's secret, a key's passphrase), as text. A failure names
 * only the error code: Node's own message repeats the path, and an operator who put the secret itself
 * where its file's path belongs would see it printed in every error and log line.
 */
export function readSecretFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new Error(`cannot read the file: ${(cause as NodeJS.ErrnoException).code ?? 'unknown error'}`);
  }
}
