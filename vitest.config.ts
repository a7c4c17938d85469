import { readFileSync } from 'node:fs';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

// GitHub's workflow parser and expression engine (src/testing/workflow/) import their JSON schema
// without an import attribute, which Node's own loader refuses: vite transforms them instead.
// Their source maps name .ts files the packages do not ship, so they are left out (vite would
// print one warning per module).
export const GITHUB_PARSERS = [/@actions\/(workflow-parser|expressions)\//];
export const githubParsersWithoutSourceMaps: Plugin = {
  name: 'github-parsers-without-source-maps',
  enforce: 'pre',
  load(id) {
    if (!/node_modules\/@actions\/(workflow-parser|expressions)\/.*\.js$/.test(id)) return undefined;
    return { code: readFileSync(id, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/gm, ''), map: null };
  },
};

// The real-PostgreSQL tests that run on PostgreSQL 17 too. Left out: those that take or restore a
// backup (pg_dump/pg_restore must be of the server's major version or newer, and no PostgreSQL 17
// client can be installed here), and the smoke/decision chain, which takes a real backup first.
const PG_DUMP_TESTS = [
  'src/runbook/backup/backup.pg.test.ts',
  'src/runbook/backup/backup-prod.pg.test.ts',
  'src/runbook/backup/backup-disk-full.pg.test.ts',
  'src/runbook/backup/backup-schemas.pg.test.ts',
  'src/runbook/backup/backup-tamper.pg.test.ts',
  'src/runbook/backup/backup-encrypted.pg.test.ts',
  'src/runbook/rollback.pg.test.ts',
  'src/runbook/late-rollback/late-rollback.pg.test.ts',
  'src/runbook/watch/watch.pg.test.ts',
  'src/runbook/run-order.pg.test.ts',
  'src/runbook/run-order-prod.pg.test.ts',
  'src/rehearsal/outcomes.pg.test.ts',
  'src/cli/commands/rehearse.pg.test.ts',
  'src/runbook/restate-run-order.pg.test.ts',
  'src/cli/commands/backup.pg.test.ts',
  'src/runtime/backup-actions.pg.test.ts',
  'src/evidence/bundle.pg.test.ts',
  'src/runbook/smoke/smoke.pg.test.ts',
];

// Four projects (the workflow scenarios are a fifth, in vitest.e2e.config.ts: npm run e2e), as in node-pg-migrate: unit tests need nothing, `pg` tests need a real
// PostgreSQL (TEST_DATABASE_URL; each file gets its own fresh database), `pg17` runs them again
// on a PostgreSQL 17 of its own (the major version of PROD), `embedded` tests run PGlite in process.
export default defineConfig({
  test: {
    // in CI a JSON report too, from which .ci/run prints its closing "N passed, N failed" line
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'out/vitest-results.json' }]] : ['default'],
    // two cores: more files at once only thrash the server
    maxWorkers: 2,
    projects: [
      {
        plugins: [githubParsersWithoutSourceMaps],
        test: {
          name: 'unit',
          // the results folder of a real rehearsal, for the tests that read result files (src/testing/results.ts)
          globalSetup: ['src/testing/results-global-setup.ts'],
          include: ['src/**/*.test.ts'],
          exclude: ['src/**/*.pg.test.ts', 'src/**/*.pg17.test.ts', 'src/**/*.embedded.test.ts', 'src/**/*.e2e.test.ts'],
          server: { deps: { inline: GITHUB_PARSERS } },
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
          name: 'pg17',
          include: ['src/**/*.pg.test.ts', 'src/**/*.pg17.test.ts'],
          exclude: PG_DUMP_TESTS,
          globalSetup: ['src/testing/pg17-global-setup.ts'],
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
