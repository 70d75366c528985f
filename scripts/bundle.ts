/**
 * The daemon's command as one file, dist/keystone-cache-invalidator.js, which bin/ runs: loading one
 * module instead of about 150 takes less memory (RSS −7 MB idle) and less time to start
 * (docs/performance.md, decision 0014). `npm run build` runs it after tsc, whose dist/ still serves the
 * `./reader` export and the type declarations.
 *
 * rhea stays in node_modules: it is required on the first AMQP 1.0 connection only. The bundled
 * CommonJS dependencies (amqplib, pino, prom-client) require Node's built-in modules, for which an ES
 * module bundle needs a `require` of its own.
 */
import { resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');

await build({
  entryPoints: [resolve(ROOT, 'src/cli.ts')],
  outfile: resolve(ROOT, 'dist/keystone-cache-invalidator.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22.12',
  external: ['rhea'],
  // Whitespace and comments out, names kept: a stack trace still names its functions. V8 holds the
  // source in memory (about three times over), so every byte saved here is saved in RSS.
  minifyWhitespace: true,
  minifySyntax: true,
  charset: 'ascii',
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as kciCreateRequire } from 'node:module'; const require = kciCreateRequire(import.meta.url);",
  },
});
