import { withDb } from '../db/open.js';
import type { Target } from '../db/target.js';
import type { Db } from '../db/types.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { loadGoldenFile } from '../golden/load.js';
import { parseGoldenProfile } from '../golden/profile.js';
import { driftReport } from './golden-drift.js';
import { readGoldenCasesFromDb } from './golden-source.js';
import { verifyGolden } from './golden-verify.js';
import type { GoldenReport } from '../results/golden.js';

/**
 * The golden step as the CLI (`astm53b golden verify`) and the action (`golden-verify`) both run
 * it: cases from a file or from ML_PP's table; with a database, ML_PP's stored values and the drift
 * report too. A file is read and validated in full before any connection is opened, and the
 * database is only read, in one read-only transaction.
 */
export interface GoldenRunOptions {
  /** the golden file: its path, and its name as the user gave it (for messages and annotations) */
  file?: { path: string; displayName: string };
  /** read the cases from public.astm_golden_cases_15c instead of a file */
  fromDb?: boolean;
  /** `source` value of the rows to read with fromDb; default SEP_API_OFFICIEL */
  source?: string;
  /** the database: needed by fromDb; with a file, adds ML_PP's stored values and the drift report */
  target?: Target;
  /** an open database instead of a target (the rehearsal shares its one embedded instance) */
  db?: Db;
  /** `EDITION/ROUNDING/DENSITY`; default: the best profile found from the cases */
  profile?: string;
  toleranceL?: number;
}

export async function runGoldenVerify(opts: GoldenRunOptions, log: Logger): Promise<GoldenReport> {
  const report = await verifyFromOptions(opts, log);
  return { ...report, at: new Date().toISOString() };
}

async function verifyFromOptions(opts: GoldenRunOptions, log: Logger): Promise<GoldenReport> {
  if (!opts.file === !opts.fromDb) {
    throw new UserError('BAD_ARGUMENTS', 'give either a golden FILE or --from-db (not both, not neither)', { where: { field: 'FILE' } });
  }
  if (opts.fromDb && !opts.target && !opts.db)
    throw new UserError('BAD_ARGUMENTS', '--from-db needs a database (--url)', { where: { field: 'url' } });
  const profile = opts.profile === undefined ? undefined : parseGoldenProfile(opts.profile);
  const common = { ...(profile ? { profile } : {}), ...(opts.toleranceL === undefined ? {} : { toleranceL: opts.toleranceL }) };
  const fileSet = opts.file ? await loadGoldenFile(opts.file.path, opts.file.displayName) : undefined;
  log.info(fileSet ? `${fileSet.cases.length} golden case(s) in ${fileSet.origin}` : 'reading golden cases from the database');
  if (!opts.target && !opts.db) return verifyGolden(fileSet!, common, log);
  const run = (db: Db) =>
    db.withTransaction(
      async (tx) => {
        const set = fileSet ?? (await readGoldenCasesFromDb(tx, { ...(opts.source ? { source: opts.source } : {}) }, log));
        const result = await verifyGolden(set, { ...common, db: tx }, log);
        const hasReceptions = (await tx.query<{ t: string | null }>(`SELECT to_regclass('public.receptions')::text AS t`)).rows[0]?.t;
        if (!hasReceptions) {
          log.warn('the target has no public.receptions: no drift report');
          return result;
        }
        const drift = await driftReport(tx, { profile: parseGoldenProfile(result.profile) }, log);
        return { ...result, drift };
      },
      { readOnly: true },
    );
  return opts.db ? run(opts.db) : withDb(opts.target!, run);
}
