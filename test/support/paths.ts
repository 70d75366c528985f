import { resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
/** shared/ sits beside the repository (CI clones main next to it); KCI_SHARED_DIR overrides. */
export const SHARED_DIR = process.env.KCI_SHARED_DIR ?? resolve(REPO_ROOT, '../shared');
export const FIXTURES_DIR = resolve(SHARED_DIR, 'fixtures/keystone-notifications');
export const CLI = resolve(REPO_ROOT, 'bin/keystone-cache-invalidator.js');
