import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root, wherever the code runs from: `src/paths.ts` under vitest, or the bundle
 * `dist/index.cjs` (the build defines import.meta.url from __filename). Both sit one level
 * below the root, which holds sql/, golden/ and evidence/.
 */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const sqlPath = (...parts: string[]): string => path.join(PACKAGE_ROOT, 'sql', ...parts);
