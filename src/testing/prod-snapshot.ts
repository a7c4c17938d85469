import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The real PROD schema snapshot of ML_PP (ML_PP_SCHEMA_DUMP). A user's clone may not have it:
 * the tests that need it say so and are skipped. In CI they must run, so its absence fails.
 */
export const PROD_SNAPSHOT = process.env.ML_PP_SCHEMA_DUMP || undefined;

if (!PROD_SNAPSHOT) {
  if (process.env.CI) throw new Error('ML_PP_SCHEMA_DUMP is not set: in CI the tests against the real PROD snapshot must run');
  console.warn('ML_PP_SCHEMA_DUMP is not set: the tests against the real PROD schema snapshot are skipped');
}

/**
 * The schema STAGING and PROD were created from (ML_PP's staging/sql/000_prod_schema_public.safe.sql),
 * beside the PROD snapshot in the same ref folder unless ML_PP_STAGING_SCHEMA_DUMP names it.
 */
export const STAGING_SCHEMA =
  process.env.ML_PP_STAGING_SCHEMA_DUMP ||
  (PROD_SNAPSHOT ? path.join(path.dirname(PROD_SNAPSHOT), 'staging_sql_000_prod_schema_public.safe.sql') : undefined);

if (STAGING_SCHEMA && !existsSync(STAGING_SCHEMA) && process.env.CI)
  throw new Error(`${STAGING_SCHEMA} is missing: in CI the staging schema test must run`);
