import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { isAstmError, table53b, table54b, type AstmError } from '../astm/index.js';
import { rejectDensityInWrongUnit } from '../astm/ranges.js';
import { columnIndex, decodeUtf8, parseCsv, parseDecimal } from '../csv.js';
import { UserError, type ErrorLocation } from '../errors.js';
import { GoldenCaseSchema, GoldenFileSchema, NUMERIC_COLUMNS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, type GoldenCase } from './schema.js';
import type { CaseOrigin } from '../results/golden.js';

/**
 * Reads golden cases from a CSV file (plain or French spreadsheet export), a JSON file, or rows
 * already fetched from ML_PP's table, and validates them all the same way: the zod schema, unique
 * references, and every case computable by the engine. The first problem stops everything with a
 * UserError naming the file, its line, the data row and the column; nothing is computed before
 * the whole set is valid.
 */

export interface LocatedCase {
  case: GoldenCase;
  where: CaseOrigin;
}

export interface GoldenSet {
  /** the file as the user named it, or `public.astm_golden_cases_15c (source = …)` */
  origin: string;
  cases: LocatedCase[];
}

/** Raw values of one case before validation (numbers already parsed from their cells). */
export interface RawCase {
  values: Record<string, unknown>;
  where: CaseOrigin;
}

const DENSITY_COLUMNS = ['densite_observee_kgm3', 'densite_a_15_kgm3_ref'] as const;
const VOLUME_COLUMNS = new Set(['volume_observe_l', 'volume_15c_ref_l']);
const FRENCH_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s.*)?$/;

function at(where: CaseOrigin, field?: string): ErrorLocation {
  return { file: where.file, ...(where.line !== undefined ? { line: where.line } : {}), row: where.row, ...(field ? { field } : {}) };
}

export async function loadGoldenFile(path: string, displayName = path): Promise<GoldenSet> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR')
      throw new UserError('FILE_NOT_FOUND', `${displayName}: no such golden file`, { where: { file: displayName }, cause: e });
    throw new UserError('FILE_NOT_READABLE', `${displayName}: ${(e as Error).message}`, { where: { file: displayName }, cause: e });
  }
  // JSON or CSV is told from the name or the first character, both ASCII: the decoding can then name a CSV's row and column
  const json = /\.json$/i.test(path) || /^(\xEF\xBB\xBF)?\s*[[{]/.test(bytes.subarray(0, 64).toString('latin1'));
  const text = decodeUtf8(bytes, displayName, { csv: !json });
  return json ? parseGoldenJson(text.replace(/^\uFEFF/, ''), displayName) : parseGoldenCsv(text, displayName);
}

// ---------------------------------------------------------------------------------------------
// CSV

export function parseGoldenCsv(text: string, file: string): GoldenSet {
  const csv = parseCsv(text, file);
  const known = new Set<string>([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS]);
  for (const c of REQUIRED_COLUMNS) {
    if (columnIndex(csv.header, c) < 0) {
      throw new UserError('GOLDEN_MISSING_COLUMN', `${file} has no column "${c}"`, {
        where: { file, line: 1, field: c },
        hint: `required columns: ${REQUIRED_COLUMNS.join(', ')}`,
      });
    }
  }
  for (const h of csv.header) {
    if (!known.has(h.toLowerCase())) {
      throw new UserError('GOLDEN_UNKNOWN_COLUMN', `${file} has an unknown column "${h}"`, {
        where: { file, line: 1, field: h },
        hint: `known columns: ${[...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS].join(', ')}`,
      });
    }
  }
  const names = csv.header.map((h) => h.toLowerCase());
  const raw: RawCase[] = csv.records.map((rec) => {
    const where: CaseOrigin = { file, line: rec.line, row: rec.row };
    if (rec.error) throw new UserError('CSV_MALFORMED', rec.error, { where: at(where) });
    if (rec.fields.length !== names.length) {
      throw new UserError('GOLDEN_FIELD_COUNT', `expected ${names.length} fields as in the header, found ${rec.fields.length}`, {
        where: at(where),
      });
    }
    const values: Record<string, unknown> = {};
    names.forEach((name, i) => {
      values[name] = cellValue(name, rec.fields[i]!, csv.dialect.decimalComma, where);
    });
    return { values, where };
  });
  return validateGoldenRows(raw, file);
}

function cellValue(column: string, cell: string, decimalComma: boolean, where: CaseOrigin): unknown {
  const t = cell.trim();
  if (t === '') return null;
  if (NUMERIC_COLUMNS.has(column)) {
    const n = parseDecimal(t, decimalComma);
    if (n === undefined) throw new UserError('GOLDEN_NOT_A_NUMBER', `${column} "${t}" is not a number`, { where: at(where, column) });
    return n;
  }
  if (column === 'date_mesure') {
    // French exports write 25/02/2026
    const m = FRENCH_DATE.exec(t);
    if (m) return `${m[3]}-${m[2]!.padStart(2, '0')}-${m[1]!.padStart(2, '0')}`;
  }
  if (column === 'density_method') return t.toLowerCase();
  return t;
}

// ---------------------------------------------------------------------------------------------
// JSON

export function parseGoldenJson(text: string, file: string): GoldenSet {
  if (text.trim() === '') throw new UserError('GOLDEN_EMPTY', `${file} is empty`, { where: { file } });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserError('GOLDEN_BAD_JSON', `${file} is not valid JSON: ${(e as Error).message}`, { where: { file }, cause: e });
  }
  const list = Array.isArray(doc)
    ? doc
    : doc && typeof doc === 'object' && Array.isArray((doc as { cases?: unknown }).cases)
      ? (doc as { cases: unknown[] }).cases
      : undefined;
  if (!list) {
    const top = GoldenFileSchema.safeParse(doc);
    const issue = top.success ? undefined : top.error.issues[0];
    throw new UserError(
      'GOLDEN_BAD_JSON',
      `${file} must hold an array of cases or an object with "cases"${issue ? ` (${issue.message})` : ''}`,
      { where: { file } },
    );
  }
  const lines = referenceLines(text);
  const raw: RawCase[] = list.map((item, i) => {
    const ref = item && typeof item === 'object' ? (item as { reference?: unknown }).reference : undefined;
    const line = typeof ref === 'string' ? lines.get(ref) : undefined;
    const where: CaseOrigin = { file, row: i + 1, ...(line !== undefined ? { line } : {}) };
    if (!item || typeof item !== 'object' || Array.isArray(item))
      throw new UserError('GOLDEN_BAD_JSON', `case ${i + 1} is not an object`, { where: at(where) });
    return { values: { ...(item as Record<string, unknown>) }, where };
  });
  return validateGoldenRows(raw, file);
}

/** Line of each `"reference": "…"` in the text, so an annotation lands on its case. */
function referenceLines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = /"reference"\s*:\s*("(?:[^"\\]|\\.)*")/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const ref = JSON.parse(m[1]!) as string;
    if (!out.has(ref)) out.set(ref, text.slice(0, m.index).split('\n').length);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// validation shared by every source

export function validateGoldenRows(raw: RawCase[], origin: string): GoldenSet {
  if (raw.length === 0) throw new UserError('GOLDEN_EMPTY', `${origin} holds no golden case`, { where: { file: origin } });
  const cases = raw.map((r) => ({ case: validateCase(r), where: r.where }));
  const seen = new Map<string, CaseOrigin>();
  for (const c of cases) {
    const first = seen.get(c.case.reference);
    if (first) {
      throw new UserError(
        'GOLDEN_DUPLICATE_REFERENCE',
        `reference "${c.case.reference}" is used twice (first on row ${first.row}${first.line ? `, line ${first.line}` : ''})`,
        {
          where: at(c.where, 'reference'),
        },
      );
    }
    seen.set(c.case.reference, c.where);
  }
  for (const c of cases) checkComputable(c);
  return { origin, cases };
}

function validateCase(r: RawCase): GoldenCase {
  for (const col of DENSITY_COLUMNS) {
    const v = r.values[col];
    if (typeof v === 'number') {
      try {
        rejectDensityInWrongUnit(v, 'observedDensity');
      } catch (e) {
        const suggestion = (e as AstmError).suggestion;
        throw new UserError(
          'GOLDEN_DENSITY_UNIT',
          `${col} ${v} looks like g/cm³ or kg/L; golden files take kg/m³ (did you mean ${suggestion}?)`,
          { where: at(r.where, col) },
        );
      }
    }
  }
  const parsed = GoldenCaseSchema.safeParse(r.values);
  if (parsed.success) return parsed.data;
  throw issueError(parsed.error.issues[0]!, r);
}

function issueError(issue: z.core.$ZodIssue, r: RawCase): UserError {
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    return new UserError('GOLDEN_UNKNOWN_COLUMN', `unknown field "${key}"`, {
      where: at(r.where, key),
      hint: `known fields: ${[...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS].join(', ')}`,
    });
  }
  const field = String(issue.path[0] ?? '');
  const value = r.values[field];
  if (issue.code === 'invalid_type') {
    if (value === undefined) return new UserError('GOLDEN_MISSING_COLUMN', `${field} is missing`, { where: at(r.where, field) });
    if (value === null) return new UserError('GOLDEN_EMPTY_CELL', `${field} is empty`, { where: at(r.where, field) });
    if (issue.expected === 'number')
      return new UserError('GOLDEN_NOT_A_NUMBER', `${field} ${JSON.stringify(value)} is not a number`, { where: at(r.where, field) });
  }
  if (VOLUME_COLUMNS.has(field) && issue.code === 'too_small') {
    return new UserError('GOLDEN_NEGATIVE_VOLUME', `${field} ${String(value)} ${issue.message}`, { where: at(r.where, field) });
  }
  if (field === 'temperature_c' && (issue.code === 'too_small' || issue.code === 'too_big')) {
    return new UserError('GOLDEN_TEMPERATURE_OUT_OF_RANGE', `temperature_c ${String(value)} °C ${issue.message}`, {
      where: at(r.where, field),
    });
  }
  return new UserError(
    'GOLDEN_INVALID_VALUE',
    `${field || 'case'} ${value === undefined ? '' : `${JSON.stringify(value)} `}${issue.message}`,
    { where: at(r.where, field || undefined) },
  );
}

/** Where an engine error points in a golden case. */
const ENGINE_COLUMN: Partial<Record<AstmError['field'], string>> = {
  observedDensity: 'densite_observee_kgm3',
  density15: 'densite_a_15_kgm3_ref',
  temperatureC: 'temperature_c',
  volumeL: 'volume_observe_l',
};

/**
 * Every case must be computable under the edition with the narrowest domain (1980) before any is
 * compared: a temperature outside the table for this density is the file's fault, not a FAIL.
 */
function checkComputable(c: LocatedCase): void {
  const g = c.case;
  try {
    table53b({
      observedDensity: g.densite_observee_kgm3,
      temperatureC: g.temperature_c,
      hydrometer: g.density_method !== 'digital',
      edition: '1980',
      rounding: 'full',
      volumeL: g.volume_observe_l,
    });
    if (g.densite_a_15_kgm3_ref !== null)
      table54b({ density15: g.densite_a_15_kgm3_ref, temperatureC: g.temperature_c, edition: '1980', rounding: 'full' });
  } catch (e) {
    if (!isAstmError(e)) throw e;
    const column = ENGINE_COLUMN[e.field];
    const code =
      e.code === 'TEMPERATURE_OUT_OF_RANGE'
        ? 'GOLDEN_TEMPERATURE_OUT_OF_RANGE'
        : e.code === 'DENSITY_OUT_OF_RANGE'
          ? 'GOLDEN_DENSITY_OUT_OF_RANGE'
          : `GOLDEN_${e.code}`;
    throw new UserError(code, e.message, { where: at(c.where, column), cause: e });
  }
}
