import type { ConfigFile } from './schema.ts';

/** How the revocation poller authenticates to Keystone v3: the two methods keystoneauth offers for it. */
export type KeystoneCredentials =
  | {
      readonly kind: 'application-credential';
      /** By id, or by name with its user (`username`, `userDomainName`). */
      readonly id: string | undefined;
      readonly name: string | undefined;
      readonly username: string | undefined;
      readonly userDomainName: string;
      readonly secret: string;
    }
  | {
      readonly kind: 'password';
      readonly username: string;
      readonly userDomainName: string;
      readonly password: string;
      readonly scope:
        | { readonly project: string; readonly projectDomainName: string }
        | { readonly system: 'all' };
    };

/**
 * The credentials named by `revocations` (already validated by the schema), with the secret read from
 * its file by `readSecret`; null when the poller is off. The secret never leaves this object.
 */
export function keystoneCredentials(
  r: ConfigFile['revocations'],
  readSecret: (field: string, path: string) => string,
): KeystoneCredentials | null {
  if (!r.enabled) return null;
  if (r.applicationCredentialSecretFile !== undefined) {
    return {
      kind: 'application-credential',
      id: r.applicationCredentialId,
      name: r.applicationCredentialName,
      username: r.username,
      userDomainName: r.userDomainName,
      secret: readSecret('revocations.applicationCredentialSecretFile', r.applicationCredentialSecretFile),
    };
  }
  return {
    kind: 'password',
    username: r.username as string,
    userDomainName: r.userDomainName,
    password: readSecret('revocations.passwordFile', r.passwordFile as string),
    scope:
      r.systemScope === undefined
        ? { project: r.projectName as string, projectDomainName: r.projectDomainName }
        : { system: r.systemScope },
  };
}
