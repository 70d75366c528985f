import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// No Docker engine here: the image is checked by reading its recipe. `docker build .` on a machine with
// Docker builds it (docs/deployment.md).
const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
const dockerignore = readFileSync(new URL('../../.dockerignore', import.meta.url), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
const stages = dockerfile.split(/^FROM /m).slice(1);
const runtime = stages.at(-1) ?? '';

describe('the Dockerfile', () => {
  it('is multi-stage, on Node 24', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24[-.\w]*slim/m);
  });

  it('ships production dependencies only, built in the build stage', () => {
    expect(stages[0]).toMatch(/npm ci/);
    expect(stages[0]).toMatch(/npm prune --omit=dev/);
    expect(runtime).not.toMatch(/npm (ci|install)/);
    expect(runtime).toMatch(/COPY --from=build .*node_modules/);
  });

  it('runs as a numeric non-root user in group 0, with files the group can read and nobody can write', () => {
    const user = instructions.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toMatch(/^USER [1-9]\d*:0$/);
    expect(runtime).toMatch(/chmod -R g=u,o-w/);
  });

  it('hands signals to the daemon: exec-form entrypoint, SIGTERM', () => {
    expect(instructions.find((l) => l.startsWith('ENTRYPOINT'))).toMatch(/^ENTRYPOINT \[/);
    expect(instructions).toContain('STOPSIGNAL SIGTERM');
    expect(instructions.find((l) => l.startsWith('CMD'))).toBe('CMD ["run"]');
  });

  it('bounds V8 young generation explicitly, in the form the benchmark reads its node flags from', () => {
    const entrypoint = instructions.find((l) => l.startsWith('ENTRYPOINT')) ?? '';
    const words = JSON.parse(entrypoint.slice('ENTRYPOINT '.length)) as string[];
    expect(words[0]).toBe('node');
    expect(words.at(-1)).toBe('/app/bin/keystone-cache-invalidator.js');
    expect(words).toContain('--max-semi-space-size=4');
  });

  it('keeps the build context to what it copies (no .git, node_modules, secrets)', () => {
    expect(dockerignore).toMatch(/^\*$/m);
    for (const copied of dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)) {
      for (const source of (copied[1] as string).split(' ')) {
        expect(dockerignore, source).toContain(`!${source.replace(/\/$/, '')}`);
      }
    }
  });
});
