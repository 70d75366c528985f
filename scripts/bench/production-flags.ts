import { readFileSync } from 'node:fs';

const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');

/**
 * The node flags the container image runs the daemon with, read from the Dockerfile's ENTRYPOINT
 * (`["node", ...flags, "/app/bin/…"]`): the benchmark runs the daemon as the image does, and the two
 * cannot drift apart.
 */
export function productionNodeFlags(): string[] {
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
  if (entrypoint === undefined) throw new Error('the Dockerfile has no exec-form ENTRYPOINT');
  const words = JSON.parse(entrypoint) as string[];
  if (words[0] !== 'node') throw new Error('the Dockerfile ENTRYPOINT does not start with node');
  return words.slice(1).filter((w) => w.startsWith('--'));
}

/**
 * The allocator settings the image gives the daemon (its `ENV MALLOC_*` variables), which move the RSS
 * as much as the node flags do. A variable set in the bench's own environment wins: that is how an
 * alternative is measured.
 */
export function productionMallocEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  const instructions = dockerfile.replace(/\\\n\s*/g, ' ').split('\n');
  for (const line of instructions.filter((l) => l.startsWith('ENV '))) {
    for (const [, name, value] of line.matchAll(/\b(MALLOC_\w+)=(\S+)/g)) {
      env[name as string] = process.env[name as string] ?? (value as string);
    }
  }
  return env;
}
