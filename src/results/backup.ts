import { z } from 'zod';
import { Fingerprint, FingerprintChange, Sha256, Structure, StructureChange, TableChecksum } from './common.js';

/**
 * The backup folder (runbook 3.1, 4.2): `manifest.json`, written once when the dump and its
 * companions are complete, and `verification.json`, the restore test with the SHA-256 of the
 * manifest it checked and of every file it re-hashed.
 *
 * Format 4 added encryption: a file that holds table data may be stored age-encrypted
 * (`database.dump.age`); its entry then records the ciphertext on disk and, under `plaintext`,
 * what it decrypts to, and `encryption` says to whom.
 */
export const MANIFEST_FORMAT = 'astm53b-backup/4';
export const VERIFICATION_FORMAT = 'astm53b-backup-verification/2';

export const BACKUP_FILE_KINDS = ['archive', 'function', 'table-snapshot', 'auth-users'] as const;

/** The kinds that hold rows of the database (user e-mails among them): the ones encrypted when the backup has recipients. */
export const DATA_FILE_KINDS: readonly BackupFileKind[] = ['archive', 'table-snapshot', 'auth-users'];
export type BackupFileKind = (typeof BACKUP_FILE_KINDS)[number];

export const ManifestFile = z.strictObject({
  /** the file on disk, relative to the backup folder */
  path: z.string(),
  kind: z.enum(BACKUP_FILE_KINDS),
  /** size and SHA-256 of the file on disk (the ciphertext, when encrypted): what the gate re-hashes */
  bytes: z.number().int(),
  sha256: Sha256,
  /** an encrypted file: the name, size and SHA-256 of what it decrypts to, as the verification proved it; null when stored as it is */
  plaintext: z.strictObject({ path: z.string(), bytes: z.number().int(), sha256: Sha256 }).nullable(),
});
export type ManifestFile = z.infer<typeof ManifestFile>;

export const FunctionExport = z.strictObject({ name: z.string(), file: z.string(), signatures: z.array(z.string()), sha256: z.string() });

export const Manifest = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  startedAt: z.string(),
  finishedAt: z.string(),
  source: z.strictObject({
    label: z.string(),
    database: z.string(),
    host: z.string(),
    serverVersion: z.string(),
    serverMajor: z.number().int(),
    /**
     * Which database this is, read in the snapshot transaction, so that a rollback can refuse a
     * backup of another one whatever its name or host: the cluster's `pg_control_system()`
     * system identifier (text: it exceeds 2^53; null where the role may not call it, as on
     * some managed servers), the OID of the database in that cluster, and the Supabase project
     * ref of the connection (null for the embedded database and any other host).
     */
    systemIdentifier: z.string().regex(/^\d+$/).nullable(),
    databaseOid: z.number().int().positive(),
    projectRef: z.string().nullable(),
  }),
  /** runbook 4.2: "vérifier que le dump est stocké hors serveur PROD" */
  written: z.strictObject({ host: z.string(), dir: z.string(), sameHostAsDatabase: z.boolean() }),
  snapshot: z.string(),
  /** which engine and dump format made the backup: they decide how it is verified and restored */
  dump: z.strictObject({
    engine: z.enum(['postgresql', 'pglite']),
    /** custom: pg_dump -Fc archive, restored with pg_restore; plain: SQL script, run statement by statement */
    format: z.enum(['custom', 'plain']),
    file: z.string(),
    /** the schemas in `file`; null when it holds the whole database */
    schemas: z.array(z.string()).nullable(),
    /** plain format: the pipeline schema, dumped apart so that a rollback never restores it */
    pipelineFile: z.string().nullable(),
    /** pg_dump's --compress (custom format); null for a plain script */
    compression: z.string().nullable(),
    /** how the dump and the snapshot reads saw one instant */
    consistency: z.string(),
  }),
  tools: z.strictObject({ pg_dump: z.strictObject({ path: z.string(), version: z.string() }) }),
  schemas: z.strictObject({
    /** application schemas present in the source: restored and compared */
    application: z.array(z.string()),
    /** the pipeline's own schema, restored into the scratch copy (our triggers may call it) but never compared */
    pipeline: z.array(z.string()),
    /** everything else (Supabase-managed: auth, storage, realtime, …): in the archive, never restored nor compared */
    excluded: z.array(z.string()),
  }),
  files: z.array(ManifestFile),
  /** how each table's checksum is computed (src/db/checksum.ts), so it can be recomputed with psql */
  checksumAlgorithm: z.string(),
  tables: z.array(TableChecksum),
  functions: z.array(FunctionExport),
  authUsers: z.strictObject({ file: z.string(), rows: z.number().int(), columns: z.array(z.string()) }).nullable(),
  fingerprint: Fingerprint,
  structure: Structure,
  /**
   * null: every file is stored as it is. Otherwise the data files (DATA_FILE_KINDS) are age
   * files for these recipients (public keys); the verification read the plaintext before it
   * was encrypted, and only the holder of a matching identity can restore or re-verify it.
   */
  encryption: z
    .strictObject({
      method: z.literal('age'),
      tool: z.string(),
      recipients: z.array(z.string()).min(1),
    })
    .nullable(),
});
export type Manifest = z.infer<typeof Manifest>;

const Figures = z.strictObject({ rows: z.number(), checksum: z.string() });

export const TableComparison = z.strictObject({
  table: z.string(),
  expected: Figures.nullable(),
  actual: Figures.nullable(),
  match: z.boolean(),
});
export type TableComparison = z.infer<typeof TableComparison>;

export const FunctionComparison = z.strictObject({
  name: z.string(),
  expectedSha256: z.string(),
  actualSha256: z.string().nullable(),
  match: z.boolean(),
});
export type FunctionComparison = z.infer<typeof FunctionComparison>;

export const Comparison = z.strictObject({
  tables: z.array(TableComparison),
  functions: z.array(FunctionComparison),
  catalog: z.strictObject({
    match: z.boolean(),
    expectedSha256: z.string(),
    actualSha256: z.string(),
    changes: z.array(FingerprintChange),
  }),
  structure: z.strictObject({ match: z.boolean(), changes: z.array(StructureChange) }),
  ok: z.boolean(),
});
export type Comparison = z.infer<typeof Comparison>;

export const HashCheck = z.strictObject({
  ok: z.boolean(),
  problems: z.array(z.strictObject({ path: z.string(), problem: z.string() })),
});
export type HashCheck = z.infer<typeof HashCheck>;

/** A table snapshot (CSV) against the same rows exported from the restored copy by the same query. */
export const SnapshotComparison = z.strictObject({
  path: z.string(),
  table: z.string(),
  /** the file: its SHA-256 on disk and the row count the manifest records for its table */
  expected: z.strictObject({ rows: z.number().int().nullable(), sha256: Sha256 }),
  /** the export from the restored copy; null when the table is not there */
  actual: z.strictObject({ rows: z.number().int(), sha256: Sha256 }).nullable(),
  match: z.boolean(),
});
export type SnapshotComparison = z.infer<typeof SnapshotComparison>;

export const Verification = z.strictObject({
  format: z.literal(VERIFICATION_FORMAT),
  ok: z.boolean(),
  checkedAt: z.string(),
  manifestSha256: Sha256,
  hashes: HashCheck,
  /**
   * Every file of the manifest that was re-hashed, with the SHA-256 found on disk: what this
   * record vouches for. The verified-backup gate refuses a folder whose manifest lists other
   * files or hashes.
   */
  files: z.array(z.strictObject({ path: z.string(), sha256: Sha256 })),
  archive: z.strictObject({ readable: z.boolean(), entries: z.number(), dumpedBy: z.string().nullable(), error: z.string().optional() }),
  restore: z
    .strictObject({
      into: z.string(),
      /** pg_dump's output as it was written (the same bytes as the archive: its SHA-256 is re-checked above), or the archive file */
      from: z.enum(['dump stream', 'archive file']),
      /** dump stream: the tables checksummed as soon as their data was in (while the next ones loaded) */
      checkedAsLoaded: z.array(z.string()).optional(),
      schemas: z.array(z.string()),
      ms: z.number(),
      error: z.string().optional(),
    })
    .nullable(),
  comparison: Comparison.nullable(),
  /** the CSV snapshots against the restored copy; null when no restore completed */
  snapshots: z.array(SnapshotComparison).nullable(),
  notCompared: z.strictObject({ schemas: z.array(z.string()), note: z.string() }),
  failures: z.array(z.string()),
});
export type Verification = z.infer<typeof Verification>;
