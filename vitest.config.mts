import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Two files at a time, whatever the cores (Vitest's own default leaves one of two idle): most of
    // an integration file's time is spent waiting on its servers, and each file has a database of its own.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          pool: 'threads',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Temporal's worker is a native addon: each test file gets its own process.
          pool: 'forks',
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/file-database-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
