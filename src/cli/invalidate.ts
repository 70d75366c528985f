import os from 'node:os';
import { type ActionObservers, configuredActions } from '../actions/configured.ts';
import type { Config } from '../config/load.ts';
import { type Target, targetName } from '../core/targets.ts';
import type { Logger } from '../observability/logger.ts';
import type { CacheServer } from '../ports/cache-server.ts';
import { errorMessage } from '../util/errors.ts';
import { invalidationsFor } from './scope.ts';

export interface InvalidateOptions {
  readonly scopes: readonly Target[];
  readonly dryRun: boolean;
}

/** Per action and server: `ok`, or why it failed. */
export type InvalidateReport = Record<string, Record<string, string>>;

/** Observers that only keep the first error each server gave. */
function recordingErrors(errors: Map<string, string>): ActionObservers {
  const failed = (server: string, error: unknown) => {
    if (!errors.has(server)) errors.set(server, errorMessage(error));
  };
  return {
    markers: { applied() {}, failed: (_t, server, error) => failed(server, error) },
    keystoneRegions: { applied() {}, failed: (_r, server, error) => failed(server, error) },
    middlewarePurge: { looked() {}, scanned() {}, deleted() {}, failed },
  };
}

/**
 * Break-glass: apply the configured actions for the given scopes on every server, now, without the
 * broker. Unlike the daemon it cannot replay later, so a server that missed anything is a failure.
 * Every run (dry or not) writes one audit line.
 */
export async function invalidate(
  config: Config,
  servers: readonly CacheServer[],
  options: InvalidateOptions,
  audit: Logger,
  out: (line: string) => void,
): Promise<number> {
  const errors = new Map<string, string>();
  const { all } = configuredActions(config, servers, Date.now, recordingErrors(errors));
  const invalidations = invalidationsFor(options.scopes);
  const scopes = invalidations.map((i) => targetName(i.targets[0] as Target));
  const report: InvalidateReport = {};
  out(
    `${options.dryRun ? 'would invalidate' : 'invalidating'} ${scopes.join(', ')} on ${servers.map((s) => s.name).join(', ')}`,
  );
  for (const action of all) {
    const items = unique(
      invalidations.flatMap((i) => action.plan(i)),
      (item) => action.itemKey(item),
    );
    out(`  ${action.name.padEnd(16)} ${items.length === 0 ? '(nothing)' : items.map(describe).join(', ')}`);
    if (options.dryRun || items.length === 0) continue;
    errors.clear();
    // A server that misses an item is owed it (pending): here, where nothing replays, that is a failure.
    await action.apply(items, AbortSignal.timeout(config.middlewarePurge.scanTimeoutMs)).catch(() => {});
    const outcome: Record<string, string> = {};
    for (const server of servers) {
      const missed = action.pending(server.name) > 0;
      outcome[server.name] = missed ? `failed: ${errors.get(server.name) ?? 'skipped (down)'}` : 'ok';
      out(`    ${server.name.padEnd(28)} ${outcome[server.name]}`);
    }
    report[action.name] = outcome;
  }
  const failed = Object.values(report).some((byServer) => Object.values(byServer).some((r) => r !== 'ok'));
  audit.warn(
    {
      audit: 'invalidate',
      scopes,
      dryRun: options.dryRun,
      operator: operator(),
      host: os.hostname(),
      results: report,
    },
    options.dryRun ? 'break-glass invalidation planned (dry run)' : 'break-glass invalidation applied',
  );
  if (failed) out('some servers did not take the invalidation: run it again once they answer');
  return failed ? 1 : 0;
}

function unique<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...new Map(items.map((item) => [key(item), item])).values()];
}

function describe(item: unknown): string {
  return typeof item === 'string' ? item : targetName(item as Target);
}

function operator(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
