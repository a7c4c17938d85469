import type { z } from 'zod';
import { ApprovalIssue } from './approval-issue.js';
import { Approvals } from './approvals.js';
import { Manifest, Verification } from './backup.js';
import { ChangelogResult } from './changelog.js';
import { CompatResult } from './compat.js';
import { Decision } from './decision.js';
import { FreezeResult, FreezeStatus } from './freeze.js';
import { GoldenReport } from './golden.js';
import { PreflightResult } from './preflight.js';
import { RestateResult } from './restate.js';
import { RollbackResult } from './rollback.js';
import { SignOff } from './signoff.js';
import { SmokeResult } from './smoke.js';
import { ApplyResult } from './sql-apply.js';
import { ResetResult } from './staging-reset.js';
import { WatchResult } from './watch.js';

/**
 * The results folder: the contract between the steps, `decide`, the evidence bundle and the
 * reports. Every file name is spelled here and only here, each with the schema its content
 * must satisfy (the step's result type is inferred from it).
 *
 *   astm53b-results/            DEFAULT_RESULTS_DIR (the workflows' RESULTS)
 *     preflight.json …          one file per step, below
 *     <step>.error.txt          a step that stopped on an error (the rehearsal writes these)
 *     backup/                   BACKUP_DIR: manifest.json, verification.json, the dump and its companions
 */
export const DEFAULT_RESULTS_DIR = 'astm53b-results';

export const RESULTS = {
  preflight: { file: 'preflight.json', schema: PreflightResult },
  compat: { file: 'compat.json', schema: CompatResult },
  freezeOn: { file: 'freeze-on.json', schema: FreezeResult },
  freezeOff: { file: 'freeze-off.json', schema: FreezeResult },
  freezeStatus: { file: 'freeze-status.json', schema: FreezeStatus },
  sqlApply: { file: 'sql-apply.json', schema: ApplyResult },
  stagingReset: { file: 'staging-reset.json', schema: ResetResult },
  restate: { file: 'restate.json', schema: RestateResult },
  golden: { file: 'golden.json', schema: GoldenReport },
  smoke: { file: 'smoke.json', schema: SmokeResult },
  signoff: { file: 'signoff.json', schema: SignOff },
  approvals: { file: 'approvals.json', schema: Approvals },
  approvalIssue: { file: 'approval-issue.json', schema: ApprovalIssue },
  /** the start gate (runbook 3.4) held as an issue: the same record, for the gate before the freeze */
  startApprovalIssue: { file: 'approval-issue-start.json', schema: ApprovalIssue },
  decision: { file: 'decision.json', schema: Decision },
  rollback: { file: 'rollback.json', schema: RollbackResult },
  changelog: { file: 'changelog.json', schema: ChangelogResult },
  watch: { file: 'watch.json', schema: WatchResult },
} as const;

export type ResultKind = keyof typeof RESULTS;
export type ResultOf<K extends ResultKind> = z.infer<(typeof RESULTS)[K]['schema']>;

/** The folder a backup is written into, inside the results folder. */
export const BACKUP_DIR = 'backup';

/** The files of a backup folder. */
export const BACKUP_FILES = {
  manifest: { file: 'manifest.json', schema: Manifest },
  verification: { file: 'verification.json', schema: Verification },
} as const;
/** pg_dump's custom archive (PostgreSQL) */
export const ARCHIVE_FILE = 'database.dump';
/** the embedded database's dumps (plain SQL, from the PGlite dump tool) */
export const SQL_DUMP_FILE = 'database.sql';
export const PIPELINE_DUMP_FILE = 'pipeline.sql';
/** the auth.users rows the application references */
export const AUTH_USERS_FILE = 'auth-users.json';

/** With several change files, the results of the ones applied before the last (sql-apply.json is the last, or the one refused). */
export const appliedEarlierFile = (index: number, changeFile: string): string =>
  `sql-apply.${index + 1}.${changeFile.replace(/\.sql$/, '')}.json`;

/** What a step that stopped on an error leaves behind, so the folder says why its result is missing. */
export const errorFileOf = (step: string): string => `${step}.error.txt`;
