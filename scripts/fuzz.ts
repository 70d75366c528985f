/**
 * Feeds generated messages through the pure core (envelope → event → targets) and fails on anything
 * but valid targets or a parked message. See USAGE.
 */
import { fuzzCore } from '../test/support/fuzz.ts';
import { parseScriptArgs, type Script, wholeNumber } from './script-args.ts';

const SCRIPT: Script = {
  name: 'fuzz',
  usage: `usage: npm run fuzz -- [--runs N] [--seed S]

Feeds N generated messages (built from the captured Keystone notifications in test/fixtures) through
the pure core: envelope → event → targets. Exits 1 on any input that crashes it (anything but valid
targets or a parked message), printing the seed and the input that reproduce it.

  --runs N    how many inputs (default 100000)
  --seed S    fast-check seed, to replay a failure (default: random)
  -h, --help  print this help`,
};

const { values } = parseScriptArgs(SCRIPT, {
  options: { runs: { type: 'string', default: '100000' }, seed: { type: 'string' } },
});
const runs = wholeNumber(SCRIPT, 'runs', values.runs, 1);
const seed = values.seed === undefined ? undefined : wholeNumber(SCRIPT, 'seed', values.seed);
const started = performance.now();
try {
  fuzzCore(runs, seed);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`fuzz: ${runs} inputs, 0 crashes (${seconds} s)`);
} catch (error) {
  console.error(`fuzz: a generated input crashed the core\n${(error as Error).message}`);
  process.exitCode = 1;
}
