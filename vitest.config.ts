import { defineConfig } from 'vitest/config';

// Integration tests share one RabbitMQ and two memcached servers; files run one at a time so each owns
// its queue names and keys without racing another file's daemon. The JSON report feeds .ci/run's summary.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default', 'json'],
    outputFile: { json: '.reports/vitest.json' },
  },
});
