import { describe, it } from 'vitest';
import { fuzzCore } from '../support/fuzz.ts';

// A few thousand generated inputs per run; `npm run fuzz` runs 100,000 or more.
describe('the pure core under generated input', () => {
  it('yields valid targets or parks, and never throws anything else', () => {
    fuzzCore(3_000);
  });
});
