import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Queryable } from '../db/types.js';
import { validateGoldenRows, type GoldenSet, type RawCase } from '../golden/load.js';
import { OPTIONAL_COLUMNS, REQUIRED_COLUMNS } from '../golden/schema.js';

/**
 * `--from-db`: the golden cases stored in ML_PP's own table `public.astm_golden_cases_15c` (PROD
 * since March 2026; the February schema has no such table). Its DDL is not in the app's repository
 * (FACTS §1.3), so the columns are read from the catalog, the optional ones used when present, and
 * every row goes through the same validation as a golden file.
 */
export const GOLDEN_TABLE = 'public.astm_golden_cases_15c';
export const DEFAULT_GOLDEN_SOURCE = 'SEP_API_OFFICIEL';

export interface ReadGoldenFromDbOptions {
  /** rows with this `source` only; default SEP_API_OFFICIEL */
  source?: string;
}

export async function readGoldenCasesFromDb(q: Queryable, opts: ReadGoldenFromDbOptions, log: Logger): Promise<GoldenSet> {
  const source = opts.source ?? DEFAULT_GOLDEN_SOURCE;
  const cols = await q.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'astm_golden_cases_15c'`,
  );
  if (cols.rows.length === 0) {
    throw new UserError(
      'GOLDEN_TABLE_MISSING',
      `the target has no table ${GOLDEN_TABLE} (ML_PP's golden cases, in PROD since the March 2026 migration)`,
      {
        where: { file: GOLDEN_TABLE },
        hint: 'pass a golden file instead (golden/template-receptions.csv shows the columns)',
      },
    );
  }
  const present = new Set(cols.rows.map((r) => r.column_name));
  for (const c of REQUIRED_COLUMNS) {
    if (!present.has(c))
      throw new UserError('GOLDEN_MISSING_COLUMN', `${GOLDEN_TABLE} has no column "${c}"`, { where: { file: GOLDEN_TABLE, field: c } });
  }
  const wanted = [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS.filter((c) => present.has(c) && c !== 'id' && c !== 'created_at')];
  // numeric and date columns as text: exact digits and no time-zone shift, whatever their type in PROD
  const list = wanted.map((c) => `${quoteIdent(c)}::text AS ${quoteIdent(c)}`).join(', ');
  const origin = `${GOLDEN_TABLE} (source = '${source}')`;
  const r = await q.query<Record<string, string | null>>(
    `SELECT ${list} FROM ${GOLDEN_TABLE} WHERE source = $1 ORDER BY date_mesure, reference`,
    [source],
  );
  log.info(`${r.rows.length} golden case(s) in ${origin}`);
  if (r.rows.length === 0) {
    throw new UserError('GOLDEN_EMPTY', `${origin} holds no row`, {
      where: { file: GOLDEN_TABLE, field: 'source' },
      hint: 'check --source',
    });
  }
  const numeric = new Set([
    'volume_observe_l',
    'temperature_c',
    'densite_observee_kgm3',
    'densite_a_15_kgm3_ref',
    'vcf_ref',
    'volume_15c_ref_l',
  ]);
  const raw: RawCase[] = r.rows.map((row, i) => {
    const values: Record<string, unknown> = {};
    for (const c of wanted) {
      const v = row[c] ?? null;
      values[c] = v !== null && numeric.has(c) ? toNumber(v) : v;
    }
    return { values, where: { file: GOLDEN_TABLE, row: i + 1 } };
  });
  return validateGoldenRows(raw, origin);
}

function toNumber(text: string): number | string {
  const n = Number(text);
  // a value that is not a number stays text, and the schema names it
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
