import { readTableKeys, tablesChecksums } from '../db/checksum.js';
import { APP_SCHEMAS, PIPELINE_PREFIX } from '../db/fingerprint.js';
import type { Queryable } from '../db/types.js';

/** Count and checksum of every application table (public, astm), keyed by name: what "the database is as it was" means in a test. */
export async function appTableChecksums(q: Queryable): Promise<Record<string, string>> {
  const keys = await readTableKeys(q, APP_SCHEMAS, PIPELINE_PREFIX);
  return Object.fromEntries((await tablesChecksums(q, keys)).map((t) => [t.table, `${t.rows}:${t.checksum}`]));
}
