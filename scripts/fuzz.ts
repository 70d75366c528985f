/**
 * `npm run fuzz -- [--runs N] [--seed S]`: feeds N generated messages (default 100,000) through the
 * pure core (envelope → event → targets) and fails on anything but valid targets or a parked message.
 */
import { parseArgs } from 'node:util';
import { fuzzCore } from '../test/support/fuzz.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '100000' }, seed: { type: 'string' } },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive whole number');
const started = performance.now();
try {
  fuzzCore(runs, values.seed === undefined ? undefined : Number(values.seed));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`fuzz: ${runs} inputs, 0 crashes (${seconds} s)`);
} catch (error) {
  console.error(`fuzz: a generated input crashed the core\n${(error as Error).message}`);
  process.exitCode = 1;
}
