import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { columnIndex, formatCsvRecord, formatDecimal, parseCsv, parseDecimal } from '../csv.js';
import { UserError } from '../errors.js';
import type { Db } from '../db/types.js';
import type { GoCondition } from '../results/go-conditions.js';
import { allowFrozenWrites } from '../runbook/freeze.js';

/**
 * Game-day drills (`astm53b rehearse --drill NAME`), run on the remedied run so that the drill
 * is the only thing wrong. Each simulates one failure the runbook plans for; the run must end
 * NO-GO with that drill's reason, a bundle that verifies, and every application table as it was
 * before the run (the rollback, or nothing ever changed).
 */
export interface Drill {
  name: string;
  /** what it simulates, for the README and the report */
  simulates: string;
  /** the GO condition the decision must name */
  condition: GoCondition;
}

export const DRILLS = {
  'golden-deviation': {
    simulates: "one SEP value 8 L off the truck's real figure (a typing error on the field sheet)",
    condition: 'GOLDEN_DEVIATION',
  },
  'negative-stock': {
    simulates: 'a negative journal balance appears during the change window (a write that escaped the checks)',
    condition: 'STOCK_INCOHERENCE',
  },
  'corrupt-dump': {
    simulates: 'a byte of the dump flipped on disk after pg_dump wrote it and before its proof',
    condition: 'NO_VERIFIED_BACKUP',
  },
  'policy-blocks-authenticated': {
    simulates: 'an RLS policy that refuses the app user reading depots (a policy change slipped in)',
    condition: 'P0001_OR_RLS',
  },
  'connection-lost-during-apply': {
    simulates: 'the connection to the database lost while the change file runs',
    condition: 'RESULT_MISSING',
  },
  'connection-lost-during-smoke': {
    simulates: 'the connection to the database lost in the middle of the controlled reception',
    condition: 'RESULT_MISSING',
  },
  'gate-rejected': {
    simulates: 'the depot manager rejects the GO gate (the sign-off says NO-GO)',
    condition: 'SIGNOFF_NO_GO',
  },
  'complaint-after-go': {
    simulates:
      'a GO, then a day of receptions, sorties and an adjustment entered as app users, then a field complaint: the watch says NO-GO and the late rollback restores the dump and replays every movement on the legacy computation',
    condition: 'FIELD_COMPLAINT',
  },
  'late-rollback-no-replay': {
    simulates:
      'the same complaint after a GO, and the late rollback without --replay: every movement exported and listed to re-enter by hand',
    condition: 'FIELD_COMPLAINT',
  },
} as const satisfies Record<string, Omit<Drill, 'name'>>;

export type DrillName = keyof typeof DRILLS;

/** The drills that run after a GO (the 24 hours of runbook 6.1): they need the remedied run to reach GO. */
export const AFTER_GO_DRILLS: readonly DrillName[] = ['complaint-after-go', 'late-rollback-no-replay'];

export function parseDrill(v: string | undefined): DrillName | undefined {
  if (v === undefined) return undefined;
  if (v in DRILLS) return v as DrillName;
  throw new UserError('BAD_OPTION', `--drill ${v.slice(0, 40)}: no such drill; one of ${Object.keys(DRILLS).join(', ')}`, {
    where: { field: 'drill' },
  });
}

/** golden-deviation: a copy of the golden file (CSV) with the first case's SEP volume 8 L higher. */
export async function goldenWithDeviation(golden: string, workDir: string): Promise<string> {
  const parsed = parseCsv(await readFile(golden, 'utf8'), golden);
  const col = columnIndex(parsed.header, 'volume_15c_ref_l');
  const first = parsed.records[0];
  if (col < 0 || !first) {
    throw new UserError('BAD_INPUT', '--drill golden-deviation needs a golden CSV with a volume_15c_ref_l column and one case', {
      where: { file: golden },
    });
  }
  const { delimiter, decimalComma } = parsed.dialect;
  const value = parseDecimal(first.fields[col]!, decimalComma);
  if (value === undefined)
    throw new UserError('BAD_INPUT', 'the first case has no SEP volume to move', {
      where: { file: golden, row: 1, field: 'volume_15c_ref_l' },
    });
  const fields = [...first.fields];
  fields[col] = formatDecimal(value + 8, decimalComma);
  const records = [parsed.header, fields, ...parsed.records.slice(1).map((r) => r.fields)];
  const out = path.join(workDir, `drill-golden-deviation-${path.basename(golden)}`);
  await writeFile(out, records.map((r) => `${formatCsvRecord(r, delimiter)}\n`).join(''));
  return out;
}

/** negative-stock: one journal balance made negative, past the freeze, as an escaped write would. */
export async function plantNegativeStock(db: Db): Promise<void> {
  await db.withTransaction(async (tx) => {
    await allowFrozenWrites(tx);
    await tx.query("SELECT set_config('app.stocks_journaliers_allow_write', '1', true)");
    await tx.query(
      `UPDATE public.stocks_journaliers SET stock_ambiant = -250, stock_15c = -248
        WHERE ctid = (SELECT ctid FROM public.stocks_journaliers ORDER BY date_jour, citerne_id LIMIT 1)`,
    );
  });
}

/** policy-blocks-authenticated: a restrictive policy that hides every depot from the app's users. */
export async function plantBlockingPolicy(db: Db): Promise<void> {
  await db.query('CREATE POLICY astm53b_drill_block ON public.depots AS RESTRICTIVE FOR SELECT TO authenticated USING (false)');
}

/** corrupt-dump: one byte in the middle of the dump, flipped. */
export async function flipDumpByte(dir: string, dumpFile: string): Promise<void> {
  const file = path.join(dir, dumpFile);
  const bytes = await readFile(file);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0x20;
  await writeFile(file, bytes);
}
