import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Removes the temporary folders each test file made (test/helpers/cli.ts, tmp).
    setupFiles: ['test/setup.ts'],
    // Guest boots take seconds each; CI runs on 2 cores.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
