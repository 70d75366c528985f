import { readFileSync } from 'node:fs';

/**
 * The node flags the container image runs the daemon with, read from the Dockerfile's ENTRYPOINT
 * (`["node", ...flags, "/app/bin/…"]`): the benchmark runs the daemon as the image does, and the two
 * cannot drift apart.
 */
export function productionNodeFlags(): string[] {
  const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
  if (entrypoint === undefined) throw new Error('the Dockerfile has no exec-form ENTRYPOINT');
  const words = JSON.parse(entrypoint) as string[];
  if (words[0] !== 'node') throw new Error('the Dockerfile ENTRYPOINT does not start with node');
  return words.slice(1).filter((w) => w.startsWith('--'));
}
