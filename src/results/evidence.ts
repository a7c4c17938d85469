import { z } from 'zod';
import { Sha256 } from './common.js';

/**
 * The evidence bundle (runbook 5.7): its file names, `manifest.json`, the facts the reports and
 * the CHANGELOG entry state, and what `evidence verify` found. The bundle's manifest lists every
 * file with its bytes and SHA-256; `SHA256SUMS` covers the same files plus manifest.json itself
 * (and its signature). Format 2 added `signature`: manifest.json.sig holds an Ed25519 signature
 * of manifest.json's exact bytes by the key the manifest names.
 */
export const BUNDLE_FORMAT = 'astm53b-evidence/2';
/** what `evidence verify` still reads: format 1 bundles (unsigned, as they were) stay verifiable for their 400 days */
export const READABLE_BUNDLE_FORMATS = ['astm53b-evidence/1', BUNDLE_FORMAT] as const;
export const BUNDLE_FILES = {
  manifest: 'manifest.json',
  signature: 'manifest.json.sig',
  sums: 'SHA256SUMS',
  reportMd: 'report.md',
  reportHtml: 'report.html',
  changelogEntry: 'CHANGELOG-entry.md',
} as const;
/** where the results folder and the SEP field evidence go inside the bundle */
export const RESULTS_PREFIX = 'results/';
export const SEP_PREFIX = 'sep/';

export const StepOutcome = z.strictObject({
  file: z.string(),
  /** `passed`, else `ok`, else null when the file says neither */
  passed: z.boolean().nullable(),
  /** decision.json's `decision`, a failure count or a status, when the file has one */
  detail: z.string().nullable(),
  /** the latest ISO timestamp among the file's top-level fields */
  at: z.string().nullable(),
});
export type StepOutcome = z.infer<typeof StepOutcome>;

export const ArchiveItem = z.strictObject({
  /** the runbook's own words (5.7) */
  item: z.string(),
  present: z.boolean(),
  evidence: z.string(),
});
export type ArchiveItem = z.infer<typeof ArchiveItem>;

export const BUNDLE_FILE_SOURCES = ['results', 'sep', 'generated'] as const;
export type BundleFileSource = (typeof BUNDLE_FILE_SOURCES)[number];

export const BundleFile = z.strictObject({
  path: z.string(),
  bytes: z.number().int().nonnegative(),
  sha256: Sha256,
  source: z.enum(BUNDLE_FILE_SOURCES),
});
export type BundleFile = z.infer<typeof BundleFile>;

export const RunInfo = z.strictObject({
  repository: z.string().nullable(),
  runId: z.string().nullable(),
  runUrl: z.string().nullable(),
  actor: z.string().nullable(),
});
export type RunInfo = z.infer<typeof RunInfo>;

export const BundleManifest = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  createdAt: z.string(),
  run: RunInfo,
  commits: z.strictObject({
    pipeline: z.string(),
    pipelineFrom: z.enum(['option', 'GITHUB_ACTION_REF', 'GITHUB_SHA', 'git', 'unknown']),
    flutterApp: z.string().nullable(),
  }),
  /** as the steps recorded it (masked), passed through redact once more */
  target: z.string().nullable(),
  times: z.strictObject({
    createdAt: z.string(),
    migrationAt: z.string().nullable(),
    firstStepAt: z.string().nullable(),
    lastStepAt: z.string().nullable(),
  }),
  decision: z.string(),
  runbook57: z.strictObject({ complete: z.boolean(), items: z.array(ArchiveItem) }),
  steps: z.array(StepOutcome),
  changelog: z.strictObject({
    entryFile: z.string(),
    date: z.string(),
    title: z.string(),
    insertedInto: z.string().nullable(),
    under: z.string().nullable(),
  }),
  warnings: z.array(z.string()),
  reproducibility: z.string(),
  /** null: not signed (no --signing-key); the bundle's authenticity cannot be checked */
  signature: z
    .strictObject({
      algorithm: z.literal('Ed25519'),
      /** "SHA256:" + hex SHA-256 of the public key's SPKI DER: which key an auditor must verify with */
      publicKeyFingerprint: z.string().regex(/^SHA256:[0-9a-f]{64}$/),
      file: z.literal(BUNDLE_FILES.signature),
    })
    .nullable(),
  /** every file of the bundle but manifest.json, its signature and SHA256SUMS */
  files: z.array(BundleFile),
});
export type BundleManifest = z.infer<typeof BundleManifest>;

export interface GoldenDeviation {
  reference: string;
  sep_l: number;
  engine_l: number | null;
  mlpp_l: number | null;
  /** engine − SEP */
  engine_deviation_l: number | null;
  /** ML_PP − SEP */
  mlpp_deviation_l: number | null;
  verdict: string | null;
  /** whose figure is at fault when the case fails (golden.json's diagnosis), and why; null when it passes */
  fault: string | null;
  explanation: string | null;
}

export interface GoldenFacts {
  file: string;
  passed: boolean | null;
  tolerance_l: number;
  profile: string | null;
  max_deviation_l: number | null;
  cases: GoldenDeviation[];
}

export interface BackupFacts {
  dir: string;
  /** the dump inside the bundle, and what the backup's own manifest says of it */
  dumpFile: string;
  sha256: string;
  bytes: number;
  /** the dump in the bundle has the SHA-256 the backup manifest recorded */
  dumpMatchesManifest: boolean;
  /** an age-encrypted dump: the SHA-256 of what it decrypts to (sha256 is the ciphertext's); null when stored in clear */
  plaintextSha256: string | null;
  takenAt: string | null;
  /** when pg_dump finished, and when the restore test ended */
  finishedAt: string | null;
  verifiedAt: string | null;
  /** verification.json `ok` (the restore test), null when absent */
  verified: boolean | null;
}

/** One SEP field confirmation file, and what the report quotes of it (src/evidence/sep-quote.ts). */
export interface SepFacts {
  path: string;
  bytes: number;
  sha256: string;
  /** mail: an .eml; whatsapp: a chat export (_chat.txt or its zip); file: anything else, listed with its hash */
  kind: 'mail' | 'whatsapp' | 'file';
  /** SEP's own words: the mail's sender, date, subject and first lines; the chat's messages of the sign-off day */
  quote: string[] | null;
  /** why nothing is quoted, or what the quote is */
  note: string | null;
}

/** One reason of decision.json, as the report states it. */
export interface ReasonFacts {
  condition: string;
  runbook: string;
  rule: string;
  source: string;
  message: string;
}

/** One field of the sign-off record, in the record's own order, with its name. */
export interface SignoffField {
  field: string;
  value: string;
}

/** The depot manager's sign-off as recorded (signoff.json, else the copy in decision.json); every field it has. */
export interface SignoffFacts {
  file: string;
  fields: SignoffField[];
}

/** A moment of the freeze window, from the results files' own timestamps. */
export interface TimelineEvent {
  step: string;
  runbook: string;
  /** when it ended (or happened), ISO */
  at: string;
  /** how long it took, when the file says */
  ms: number | null;
  outcome: string;
}

export interface SmokeFigureRow {
  owner: string;
  figure: 'journal' | 'snapshot' | 'v_stock_actuel';
  /** ambient and 15 °C litres; null where the smoke did not read it */
  before: { amb: number; v15: number } | null;
  afterReception: { amb: number; v15: number } | null;
  afterSortie: { amb: number; v15: number } | null;
  afterRollback: { amb: number; v15: number } | null;
}

export interface SmokeFacts {
  file: string;
  passed: boolean;
  at: string;
  tank: string | null;
  day: string | null;
  checks: { id: string; title: string; ran: boolean; passed: boolean; message: string; failed: string[] }[];
  figures: SmokeFigureRow[];
  /** the tank's figures after the ROLLBACK equal those before the smoke */
  unchanged: boolean;
}

export interface RestateFacts {
  file: string;
  status: string;
  committed: boolean;
  message: string;
  receptions: {
    reception: string;
    date: string | null;
    tank: string;
    owner: string;
    stored_l: number | null;
    astm_l: number | null;
    delta_l: number | null;
    action: string;
  }[];
}

/** What the evidence bundle and the CHANGELOG entry state, read from the results folder. */
export interface EvidenceFacts {
  steps: StepOutcome[];
  decision: string;
  target: string | null;
  flutterCommit: string | null;
  astmFlag: string | null;
  /** the migration's time: the date given by the operator, else sql-apply.json's timestamp */
  migrationAt: string | null;
  migrationAtSource: 'option' | 'sql-apply.json' | null;
  applied: { file: string; sha256: string | null; status: string | null; ok: boolean | null } | null;
  backup: BackupFacts | null;
  golden: GoldenFacts | null;
  sep: SepFacts[];
  /** decision.json's reasons (none for a GO, or when there is no decision) and when it was made */
  reasons: ReasonFacts[];
  decidedAt: string | null;
  signoff: SignoffFacts | null;
  /** who started the run, as the steps recorded it (their run context) */
  triggeredBy: string | null;
  timeline: TimelineEvent[];
  smoke: SmokeFacts | null;
  restate: RestateFacts | null;
  /** runbook 5.7: "Aucune migration ASTM53B ne sera considérée valide sans ces archives." */
  archives: ArchiveItem[];
  warnings: string[];
}

export interface VerifyProblem {
  path: string;
  /** unsafe: a hostile zip structure, refused before anything was inflated; signature: authenticity failed */
  kind: 'missing' | 'extra' | 'changed' | 'unreadable' | 'inconsistent' | 'unsafe' | 'signature';
  problem: string;
}

/** Whether the bundle is the one the depot's evidence job signed, or only self-consistent. */
export interface Authenticity {
  /** a public key was given (--public-key): without one nothing below is known */
  checked: boolean;
  /** manifest.json.sig is in the bundle */
  signed: boolean;
  /** the key manifest.json names, and the key given */
  manifestKey: string | null;
  givenKey: string | null;
  /** null when not checked */
  valid: boolean | null;
  /** one sentence for the auditor */
  statement: string;
}

/** What `evidence verify` found. */
export interface VerifyResult {
  ok: boolean;
  zip: { path: string; bytes: number; sha256: string };
  expectedZipSha256: string | null;
  /** entries re-hashed */
  checked: number;
  manifest: { decision: string | null; complete: boolean | null } | null;
  authenticity: Authenticity;
  problems: VerifyProblem[];
}
