import { defineConfig } from 'vitest/config';
import { GITHUB_PARSERS, githubParsersWithoutSourceMaps } from './vitest.config.js';

// The workflows as GitHub runs them (src/testing/workflow/README.md): every scenario runs the
// committed bundle of every action as its own process against a fresh database of
// TEST_DATABASE_URL. Apart from `npm test` because they take minutes and need `npm run build` first.
export default defineConfig({
  plugins: [githubParsersWithoutSourceMaps],
  test: {
    name: 'e2e',
    include: ['src/**/*.e2e.test.ts'],
    globalSetup: ['src/testing/pg-global-setup.ts'],
    server: { deps: { inline: GITHUB_PARSERS } },
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // two cores, and each scenario already runs a PostgreSQL client, pg_dump and pg_restore at once
    maxWorkers: 2,
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'out/vitest-e2e-results.json' }]] : ['default'],
  },
});
