/**
 * The real PROD schema snapshot of ML_PP (ML_PP_SCHEMA_DUMP). A user's clone may not have it:
 * the tests that need it say so and are skipped. In CI they must run, so its absence fails.
 */
export const PROD_SNAPSHOT = process.env.ML_PP_SCHEMA_DUMP || undefined;

if (!PROD_SNAPSHOT) {
  if (process.env.CI) throw new Error('ML_PP_SCHEMA_DUMP is not set: in CI the tests against the real PROD snapshot must run');
  console.warn('ML_PP_SCHEMA_DUMP is not set: the tests against the real PROD schema snapshot are skipped');
}
