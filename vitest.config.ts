import { defineConfig } from 'vitest/config';

// Three projects, as in node-pg-migrate: unit tests need nothing, `pg` tests need a real
// PostgreSQL (TEST_DATABASE_URL; each file gets its own fresh database), `embedded` tests
// run PGlite in process.
export default defineConfig({
  test: {
    // in CI a JSON report too, from which .ci/run prints its closing "N passed, N failed" line
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'out/vitest-results.json' }]] : ['default'],
    // two cores: more files at once only thrash the server
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          // the results folder of a real rehearsal, for the tests that read result files (src/testing/results.ts)
          globalSetup: ['src/testing/results-global-setup.ts'],
          include: ['src/**/*.test.ts'],
          exclude: ['src/**/*.pg.test.ts', 'src/**/*.embedded.test.ts'],
          benchmark: { include: ['src/**/*.bench.ts'] },
        },
      },
      {
        test: {
          name: 'pg',
          include: ['src/**/*.pg.test.ts'],
          globalSetup: ['src/testing/pg-global-setup.ts', 'src/testing/results-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'embedded',
          include: ['src/**/*.embedded.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
