import { z } from 'zod';
import { AppActivity, EnvironmentMarker, FingerprintChange, ServerInfo, Sha256, WaitingTruck } from './common.js';
import { CompatResult } from './compat.js';

/** preflight.json (runbook 3.3, 4.1, 4.4). */
export const PreflightFailure = z.strictObject({
  /** the runbook 6.1 / decision reason it maps to */
  code: z.enum(['INCOMPATIBLE', 'DRIFT']),
  message: z.string(),
});
export type PreflightFailure = z.infer<typeof PreflightFailure>;

export const GasoilReception = z.strictObject({
  id: z.string(),
  date_reception: z.string().nullable(),
  citerne: z.string(),
  proprietaire_type: z.string(),
  volume_ambiant: z.number().nullable(),
  volume_corrige_15c: z.number().nullable(),
  volume_15c: z.number().nullable(),
  temperature_ambiante_c: z.number().nullable(),
  densite_a_15: z.number().nullable(),
});
export type GasoilReception = z.infer<typeof GasoilReception>;

export const FlutterCommitCheck = z.strictObject({
  /** owner/name of the app's repository */
  repository: z.string(),
  /** the full 40-hex SHA GitHub returned */
  sha: z.string().regex(/^[0-9a-f]{40}$/),
  /** the commit message's first line, and the committer's date */
  message: z.string(),
  date: z.string().nullable(),
  url: z.string().nullable(),
  checkedAt: z.string(),
});
export type FlutterCommitCheck = z.infer<typeof FlutterCommitCheck>;

export const TouchedObjects = z.strictObject({
  /** schema.name, without arguments: every overload counts */
  functions: z.array(z.string()),
  /** schema.table.name */
  triggers: z.array(z.string()),
  policies: z.array(z.string()),
  /** schema.table: ALTER TABLE (RLS switches, triggers enabled), GRANT/REVOKE ON TABLE */
  tables: z.array(z.string()),
});
export type TouchedObjects = z.infer<typeof TouchedObjects>;

export const PreflightResult = z.strictObject({
  step: z.literal('preflight'),
  passed: z.boolean(),
  failures: z.array(PreflightFailure),
  warnings: z.array(z.string()),
  target: z.string(),
  server: ServerInfo,
  at: z.string(),
  golden: z.strictObject({ file: z.string(), sha256: Sha256, bytes: z.number(), cases: z.number() }),
  changeFiles: z.array(
    z.strictObject({
      name: z.string(),
      file: z.string(),
      sha256: Sha256,
      bytes: z.number(),
      statements: z.number(),
      touches: TouchedObjects,
    }),
  ),
  deployment: z.strictObject({
    flutterCommit: z.string().nullable(),
    /**
     * the commit as GitHub's API returned it (GET /repos/{owner}/{repo}/commits/{sha}): only a
     * commit confirmed there counts as the deployed app's (runbook 5.7); absent or null: not checked
     */
    flutterCommitCheck: FlutterCommitCheck.nullable().optional(),
    astmFlag: z.enum(['on', 'off']).nullable(),
    databaseComputes15c: z.boolean(),
    computeTriggers: z.array(z.string()),
  }),
  environment: EnvironmentMarker,
  compat: CompatResult,
  pendingTrucks: z.array(WaitingTruck),
  gasoilReceptions: z.array(GasoilReception),
  activity: AppActivity,
  drift: z
    .strictObject({ baseline: z.string(), baselineSha256: Sha256, objectsCompared: z.number(), changes: z.array(FingerprintChange) })
    .nullable(),
});
export type PreflightResult = z.infer<typeof PreflightResult>;
