import { z } from 'zod';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { lockPipeline } from '../db/advisory-lock.js';
import { tableChecksum } from '../db/checksum.js';
import { parseRows } from '../db/rows.js';
import { runStatements } from '../db/sql-file.js';
import type { Db, Queryable } from '../db/types.js';
import { loadChangeFile, type ChangeFile } from './change-file.js';
import { changeFileRef } from '../paths.js';
import { dropTransactionControl } from './db-init.js';
import { allowFrozenWrites } from './freeze.js';
import { projectRefOf, readEnvironment } from './environment.js';
import type { ResetCounts, ResetResult } from '../results/staging-reset.js';
import type { EnvironmentMarker } from '../results/common.js';
import type { RunContext } from '../results/run-context.js';

/**
 * `astm53b staging-reset` (runbook 3.5, "CDR only"): the reset file runs only on a database
 * marked staging, in ONE transaction (its function patch and its purge together), and the
 * invariant is proved before COMMIT: receptions, sorties_produit, stocks_journaliers and the
 * scoped log_actions at 0, cours_de_route identical row for row. ML_PP's reset file has no
 * environment guard of its own, so this is the guard. Also reports what the reset leaves
 * that still shows stock or blocks new receptions, as ML_PP's real reset does (FACTS §4.1).
 */
export interface ResetOptions {
  file: ChangeFile;
  /** the connection string, to compare the project ref with the marker's (never stored) */
  url?: string | undefined;
  run: RunContext;
  lockWaitMs: number;
  lockTimeoutMs: number;
  statementTimeoutMs: number;
}

const LeftSnapshot = z.object({
  citerne: z.string(),
  produit: z.string(),
  proprietaire_type: z.string(),
  stock_ambiant: z.number(),
  stock_15c: z.number(),
});
const LeftCdr = z.object({ id: z.string(), plaque_camion: z.string(), date_chargement: z.string() });

const SCOPED_LOGS = "module IN ('receptions', 'sorties') OR module ILIKE '%stock%'";

async function counts(q: Queryable): Promise<ResetCounts> {
  const r = await q.query<ResetCounts>(
    `SELECT (SELECT count(*) FROM public.receptions)::int8 AS receptions,
            (SELECT count(*) FROM public.sorties_produit)::int8 AS sorties_produit,
            (SELECT count(*) FROM public.stocks_journaliers)::int8 AS stocks_journaliers,
            (SELECT count(*) FROM public.log_actions WHERE ${SCOPED_LOGS})::int8 AS log_actions_scoped,
            (SELECT count(*) FROM public.cours_de_route)::int8 AS cours_de_route,
            (SELECT count(*) FROM public.stocks_snapshot)::int8 AS stocks_snapshot`,
  );
  return r.rows[0]!;
}

/** Refuses anything but a database marked staging, and a marker made for another Supabase project. */
export function assertStaging(env: EnvironmentMarker, url: string | undefined): void {
  if (env.env !== 'staging') {
    throw new UserError(
      'ENV_NOT_STAGING',
      `staging-reset refused: this database is not marked staging (${env.explanation}); nothing was touched`,
      {
        hint: 'mark a STAGING database with: astm53b env set staging --url … [--project-ref REF]; never on PROD',
      },
    );
  }
  const marked = env.pipeline?.projectRef;
  const actual = url ? projectRefOf(url) : undefined;
  if (actual && !marked) {
    throw new UserError(
      'PROJECT_REF_REQUIRED',
      `staging-reset refused: the connection points at Supabase project ${actual}, but the staging marker names no project; nothing was touched`,
      { hint: `mark it again with: astm53b env set staging --project-ref ${actual}` },
    );
  }
  if (marked && actual && marked !== actual) {
    throw new UserError(
      'PROJECT_REF_MISMATCH',
      `staging-reset refused: the staging marker was set for Supabase project ${marked}, but the connection points at ${actual}; nothing was touched`,
    );
  }
}

/** The reset file: the depot's own when given, else ours (the runbook's "CDR only" file, sql/docs/DB_CHANGES/). */
export async function loadResetFile(given?: { path: string; display: string }): Promise<ChangeFile> {
  const f = given ?? changeFileRef('resetCdrOnly');
  return loadChangeFile(f.path, f.display);
}

export async function stagingReset(db: Db, opts: ResetOptions, log: Logger): Promise<ResetResult> {
  const started = Date.now();
  // decided before any write, in a read-only transaction: a refusal leaves no trace at all
  const env = await db.withTransaction((tx) => readEnvironment(tx), { readOnly: true });
  assertStaging(env, opts.url);
  log.info(`staging-reset: ${env.explanation}; running ${opts.file.display} (sha256 ${opts.file.sha256})`);
  return db.withClient(
    async (c) => {
      await c.query('BEGIN');
      let open = true;
      try {
        await c.query(`SET LOCAL statement_timeout = ${opts.statementTimeoutMs}`);
        await lockPipeline(c, 'change', opts.lockWaitMs, opts.lockTimeoutMs, 'staging-reset');
        assertStaging(await readEnvironment(c), opts.url); // unchanged since, under the lock
        const before = await counts(c);
        const cdrBefore = await tableChecksum(c, 'public', 'cours_de_route');
        await allowFrozenWrites(c);
        await runStatements(c, opts.file.text, opts.file.display, { filter: dropTransactionControl, log });
        const after = await counts(c);
        const cdrAfter = await tableChecksum(c, 'public', 'cours_de_route');
        const problems = [
          ...(['receptions', 'sorties_produit', 'stocks_journaliers', 'log_actions_scoped'] as const)
            .filter((k) => after[k] !== 0)
            .map((k) => `${k}: ${after[k]} rows left, expected 0`),
          ...(cdrAfter.rows !== cdrBefore.rows || cdrAfter.checksum !== cdrBefore.checksum
            ? [
                `cours_de_route changed: ${cdrBefore.rows} rows checksum ${cdrBefore.checksum} before, ${cdrAfter.rows} rows checksum ${cdrAfter.checksum} after`,
              ]
            : []),
        ];
        const snap = await c.query(
          `SELECT ci.nom AS citerne, coalesce(p.code, p.nom) AS produit, s.proprietaire_type, s.stock_ambiant, s.stock_15c
             FROM public.stocks_snapshot s JOIN public.citernes ci ON ci.id = s.citerne_id JOIN public.produits p ON p.id = s.produit_id
            WHERE s.stock_ambiant <> 0 OR s.stock_15c <> 0 ORDER BY 1, 2, 3`,
        );
        const cdr = await c.query(
          "SELECT id::text, plaque_camion, date_chargement::text FROM public.cours_de_route WHERE statut = 'DECHARGE' ORDER BY date_chargement, plaque_camion",
        );
        const leftovers = {
          snapshotWithStock: parseRows(LeftSnapshot, snap.rows, 'snapshot left'),
          cdrDecharge: parseRows(LeftCdr, cdr.rows, 'CDR in DECHARGE'),
        };
        const ok = problems.length === 0;
        open = false;
        await c.query(ok ? 'COMMIT' : 'ROLLBACK');
        if (ok)
          log.info(
            `staging-reset: done; ${before.receptions} receptions, ${before.sorties_produit} sorties, ${before.stocks_journaliers} journal rows removed; ${after.cours_de_route} cours de route untouched`,
          );
        else log.warn(`staging-reset: invariant broken, rolled back: ${problems.join('; ')}`);
        if (leftovers.snapshotWithStock.length)
          log.warn(
            `staging-reset: ${leftovers.snapshotWithStock.length} stocks_snapshot row(s) still show stock (v_stock_actuel is not zero)`,
          );
        if (leftovers.cdrDecharge.length)
          log.warn(`staging-reset: ${leftovers.cdrDecharge.length} cours de route left in DECHARGE cannot be received again`);
        return {
          target: db.label,
          file: { name: opts.file.name, display: opts.file.display, sha256: opts.file.sha256 },
          run: opts.run,
          environment: env,
          before,
          after,
          cdrBefore,
          cdrAfter,
          ok,
          problems,
          leftovers,
          ms: Date.now() - started,
        };
      } catch (e) {
        if (open) await c.query('ROLLBACK').catch(() => {});
        throw e;
      }
    },
    { discard: true },
  );
}
