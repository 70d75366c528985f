/**
 * vitest globalSetup of the integration tests: what the broker held before the first test file ran.
 * Each file's end restores it (hygiene.ts), and the last file proves it (suite-leaves-broker-as-found).
 */
import type { TestProject } from 'vitest/node';
import { type BrokerInventory, takeInventory } from './broker-inventory.ts';
import { stopOrphanedPrivateBrokers } from './private-broker.ts';

declare module 'vitest' {
  interface ProvidedContext {
    brokerBefore: BrokerInventory;
  }
}

export async function setup(project: TestProject): Promise<void> {
  let before: BrokerInventory;
  try {
    before = await takeInventory();
  } catch (error) {
    throw new Error(
      `the integration tests need RabbitMQ and rabbitmqctl (scripts/local-services.sh starts it; run as root): ${(error as Error).message}`,
    );
  }
  project.provide('brokerBefore', before);
  await stopOrphanedPrivateBrokers();
}

/** A test process killed before its afterAll leaves its private RabbitMQ node running: stop it. */
export async function teardown(): Promise<void> {
  await stopOrphanedPrivateBrokers();
}
