import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root, wherever the code runs from: `src/paths.ts` under vitest, or the bundle
 * `dist/index.cjs` (the build defines import.meta.url from __filename). Both sit one level
 * below the root, which holds sql/, golden/ and evidence/.
 */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const sqlPath = (...parts: string[]): string => path.join(PACKAGE_ROOT, 'sql', ...parts);

/**
 * The change files (sql/docs/DB_CHANGES/): the runbook's, under the names the runbook gives them, and
 * p0_1, ours, which corrects the P0's stock effects (the depot validates it on STAGING like any other).
 */
export const CHANGE_FILES = {
  p0: 'docs/DB_CHANGES/2026-02-25_staging_validate_sortie_p0.sql',
  p0_1: 'docs/DB_CHANGES/2026-12-04_validate_sortie_p0_1.sql',
  resetCdrOnly: 'docs/DB_CHANGES/2026-02-25_staging_reset_cdr_only.sql',
} as const;

/** A change file of ours: its path, and how messages name it. */
export const changeFileRef = (key: keyof typeof CHANGE_FILES): { path: string; display: string } => ({
  path: sqlPath(CHANGE_FILES[key]),
  display: `sql/${CHANGE_FILES[key]}`,
});
