import { resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
/** The captured data the tests, the benchmark and the fuzzer read (test/fixtures/README.md). */
export const FIXTURES_DIR = resolve(REPO_ROOT, 'test/fixtures/keystone-notifications');
export const MIDDLEWARE_FIXTURES_DIR = resolve(REPO_ROOT, 'test/fixtures/keystonemiddleware-memcache');
export const CLI = resolve(REPO_ROOT, 'bin/keystone-cache-invalidator.js');
