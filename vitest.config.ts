import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const LAST = 'test/integration/suite-leaves-broker-as-found.test.ts';

/** vitest's own order, but the check that the suite left the broker as it found it comes last. */
class BrokerCheckLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const isLast = (f: TestSpecification) => f.moduleId.endsWith(LAST);
    return [...sorted.filter((f) => !isLast(f)), ...sorted.filter(isLast)];
  }
}

// Integration tests share one RabbitMQ and two memcached servers; files run one at a time so each owns
// its queue names and keys without racing another file's daemon. Every file ends by removing what it
// left (test/support/hygiene.ts). The JSON report feeds .ci/run's summary.
export default defineConfig({
  test: {
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The Python peers the tests start write no __pycache__ into the tree.
    env: { PYTHONDONTWRITEBYTECODE: '1' },
    sequence: { sequencer: BrokerCheckLast },
    reporters: ['default', 'json'],
    outputFile: { json: '.reports/vitest.json' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], setupFiles: ['test/support/hygiene.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/broker-snapshot.ts'],
          setupFiles: ['test/support/hygiene.ts'],
        },
      },
    ],
  },
});
