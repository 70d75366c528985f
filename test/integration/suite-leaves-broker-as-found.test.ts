import { describe, expect, inject, it } from 'vitest';
import { addedSince, describeInventory, takeInventory } from '../support/broker-inventory.ts';

// vitest.config.ts runs this file after every other integration test file: it proves the promise that
// test/support/hygiene.ts keeps at the end of each file. Whatever it finds is deleted after it all the
// same (by that hook), so a failure here leaves the broker clean too.
describe('the integration suite, once every other file has ended', () => {
  it('leaves the broker with exactly the queues and exchanges it had before the suite began', async () => {
    const before = inject('brokerBefore');
    const now = await takeInventory();
    expect(describeInventory(addedSince(before, now)), 'left behind by the suite').toBe('');
    expect(describeInventory(addedSince(now, before)), 'deleted by the suite').toBe('');
  });
});
