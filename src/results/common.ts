import { z } from 'zod';

/**
 * Pieces shared by several result files: what the database server is, the catalog fingerprint
 * and structure, table checksums, the environment marker, the app activity seen. Schemas are
 * strict: a field a step writes that the contract does not know is a bug, found when the result
 * is written, not when an auditor reads it.
 */
export const ServerInfo = z.strictObject({
  major: z.number().int(),
  /** e.g. "15.20" */
  version: z.string(),
  engine: z.enum(['postgresql', 'pglite']),
});
export type ServerInfo = z.infer<typeof ServerInfo>;

export const OBJECT_KINDS = ['function', 'trigger', 'policy', 'rls', 'table_grant', 'function_grant'] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

export const FingerprintEntry = z.strictObject({
  kind: z.enum(OBJECT_KINDS),
  /** stable name, e.g. "public.validate_sortie(p_id uuid)", "public.receptions.trg_x" */
  name: z.string(),
  /** what is compared: a canonical text (definitions are hashed, not stored) */
  value: z.string(),
});
export type FingerprintEntry = z.infer<typeof FingerprintEntry>;

export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in lowercase hex');

export const Fingerprint = z.strictObject({
  schemas: z.array(z.string()),
  entries: z.array(FingerprintEntry),
  /** SHA-256 over every entry in order */
  sha256: Sha256,
});
export type Fingerprint = z.infer<typeof Fingerprint>;

export const Change = z.enum(['added', 'removed', 'changed']);

export const FingerprintChange = z.strictObject({
  kind: z.enum(OBJECT_KINDS),
  name: z.string(),
  change: Change,
  before: z.string().optional(),
  after: z.string().optional(),
});
export type FingerprintChange = z.infer<typeof FingerprintChange>;

export const STRUCTURE_KINDS = ['column', 'constraint', 'index', 'view'] as const;

export const StructureEntry = z.strictObject({ kind: z.enum(STRUCTURE_KINDS), name: z.string(), value: z.string() });
export type StructureEntry = z.infer<typeof StructureEntry>;

export const Structure = z.strictObject({ entries: z.array(StructureEntry), sha256: Sha256 });
export type Structure = z.infer<typeof Structure>;

export const StructureChange = z.strictObject({ kind: z.enum(STRUCTURE_KINDS), name: z.string(), change: Change });
export type StructureChange = z.infer<typeof StructureChange>;

export const TableChecksum = z.strictObject({ table: z.string(), rows: z.number().int(), checksum: z.string() });
export type TableChecksum = z.infer<typeof TableChecksum>;

export const ENV_NAMES = ['staging', 'prod'] as const;
export type EnvName = (typeof ENV_NAMES)[number];

export const EnvironmentMarker = z.strictObject({
  /** what the pipeline decides from the markers; `conflict` and `unmarked` are never staging */
  env: z.enum(['staging', 'prod', 'unmarked', 'conflict']),
  pipeline: z
    .strictObject({ env: z.enum(ENV_NAMES), projectRef: z.string().nullable(), setAt: z.string(), setBy: z.string(), runId: z.string() })
    .optional(),
  /** ML_PP's own STAGING marker, public.app_settings key env, when the table exists */
  appSettingsEnv: z.string().nullable().optional(),
  explanation: z.string(),
});
export type EnvironmentMarker = z.infer<typeof EnvironmentMarker>;

export const AppSession = z.strictObject({
  pid: z.number(),
  usename: z.string().nullable(),
  application_name: z.string(),
  state: z.string().nullable(),
  state_change: z.string().nullable(),
  recent: z.boolean(),
});
export type AppSession = z.infer<typeof AppSession>;

export const AppActivity = z.strictObject({
  windowMinutes: z.number(),
  appRoles: z.array(z.string()),
  recent: z.strictObject({ receptions: z.number(), sorties: z.number(), logActions: z.number() }),
  /** sessions of the app roles on this database, ours excluded */
  sessions: z.array(AppSession),
  /** the sessions that count as writing: not idle, or idle but active within the window */
  activeSessions: z.array(AppSession),
  writing: z.boolean(),
  /** one line per thing seen, for messages */
  seen: z.array(z.string()),
});
export type AppActivity = z.infer<typeof AppActivity>;

/** Runbook 3.3: a truck arrived (CDR ARRIVE) but not received yet. */
export const WaitingTruck = z.strictObject({
  id: z.string(),
  plaque_camion: z.string(),
  produit: z.string().nullable(),
  volume: z.string().nullable(),
  date_chargement: z.string(),
  statut: z.string(),
});
export type WaitingTruck = z.infer<typeof WaitingTruck>;
