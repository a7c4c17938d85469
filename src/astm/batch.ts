import { ROUNDING_PROFILES, parseEdition, parseRoundingProfile } from './editions.js';
import { isAstmError, type AstmField } from './errors.js';
import { table53b } from './table53b.js';
import { table54b } from './table54b.js';

/**
 * One row of a batch file (`astm53b batch`): its cells in, the computed cells or a row error out.
 * Pure like the rest of the engine: no I/O. Reading and writing the CSV file is
 * `src/astm-batch/stream.ts`'s business; how numbers are written in the file's cells (decimal
 * point or comma) is passed in by the caller.
 *
 * The column names are a contract: other tools write these files and read the results.
 */

export const REQUIRED_COLUMNS = ['table', 'edition', 'rounding', 'density_kgm3', 'temperature_c'] as const;
export const OPTIONAL_COLUMNS = ['hydrometer', 'volume_l', 'addendum_2019'] as const;
export const OUTPUT_COLUMNS = ['vcf', 'density15_kgm3', 'volume15_l', 'error'] as const;

export type InputColumn = (typeof REQUIRED_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number];

/** How the file writes numbers: `parse` refuses (undefined) anything that is not exactly one number. */
export interface CellNumbers {
  parse(text: string): number | undefined;
  format(n: number): string;
}

/** Where an engine error points in a batch row. */
const BATCH_FIELD: Record<AstmField, string | undefined> = {
  density15: 'density_kgm3',
  observedDensity: 'density_kgm3',
  temperatureC: 'temperature_c',
  pressureKpa: undefined,
  volumeL: 'volume_l',
  edition: 'edition',
  rounding: 'rounding',
  options: undefined,
};

const TRUE_WORDS = new Set(['true', '1', 'yes', 'y', 'oui', 'vrai']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n', 'non', 'faux', '']);

/** What is wrong with one row; `field` is the batch column, when one is to blame. */
export class RowError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field: string | undefined,
  ) {
    super(message);
  }
}

/** The computed cells, as text in the file's number format ('' when there is nothing to write). */
export interface BatchRowOutput {
  vcf: string;
  density15: string;
  volume15: string;
}

/**
 * Computes one row; `get` returns a column's cell (undefined when the file has no such column).
 * Throws a RowError or an AstmError for a bad row (`asRowError` turns either into a RowError).
 */
export function computeRow(get: (c: InputColumn) => string | undefined, numbers: CellNumbers): BatchRowOutput {
  const text = (c: InputColumn) => (get(c) ?? '').trim();
  const number = (c: InputColumn, required: boolean): number | undefined => {
    const t = text(c);
    if (t === '') {
      if (required) throw new RowError('MISSING_VALUE', `${c} is empty`, c);
      return undefined;
    }
    const n = numbers.parse(t);
    if (n === undefined) throw new RowError('INVALID_NUMBER', `"${t}" is not a number`, c);
    return n;
  };
  const bool = (c: InputColumn): boolean => {
    const t = text(c).toLowerCase();
    if (TRUE_WORDS.has(t)) return true;
    if (FALSE_WORDS.has(t)) return false;
    throw new RowError('INVALID_BOOLEAN', `"${text(c)}" is not true or false`, c);
  };
  const table = text('table').toUpperCase();
  if (table !== '53B' && table !== '54B') throw new RowError('INVALID_TABLE', `"${text('table')}" is not 53B or 54B`, 'table');
  // empty edition/rounding cells are refused, not defaulted: the output repeats the input, and a
  // blank there would hide which edition the figures were computed with
  if (text('edition') === '') throw new RowError('MISSING_VALUE', 'edition is empty (1980 or 2004)', 'edition');
  if (text('rounding') === '') throw new RowError('MISSING_VALUE', `rounding is empty (${ROUNDING_PROFILES.join(', ')})`, 'rounding');
  const edition = parseEdition(text('edition'));
  const rounding = parseRoundingProfile(text('rounding'));
  const density = number('density_kgm3', true)!;
  const temperatureC = number('temperature_c', true)!;
  const volumeL = number('volume_l', false);
  const hydrometer = bool('hydrometer');
  const addendum2019 = bool('addendum_2019');
  const common = { edition, rounding, addendum2019, ...(volumeL === undefined ? {} : { volumeL }) };
  const fmt = (n: number | undefined) => (n === undefined ? '' : numbers.format(n));
  if (table === '54B') {
    // ρ15 is never a hydrometer reading; a true here means the row was meant for 53B
    if (hydrometer)
      throw new RowError('INVALID_BOOLEAN', 'hydrometer applies to 53B rows only (54B takes the density at 15 °C)', 'hydrometer');
    const r = table54b({ density15: density, temperatureC, ...common });
    return { vcf: fmt(r.vcf), density15: fmt(r.density15), volume15: fmt(r.volume15L) };
  }
  const r = table53b({ observedDensity: density, temperatureC, hydrometer, ...common });
  return { vcf: fmt(r.vcf), density15: fmt(r.density15), volume15: fmt(r.volume15L) };
}

/** A bad row's error as a RowError naming the batch column; anything else is a bug and is rethrown. */
export function asRowError(e: unknown): RowError {
  if (e instanceof RowError) return e;
  if (isAstmError(e)) return new RowError(e.code, e.message, BATCH_FIELD[e.field]);
  throw e;
}
