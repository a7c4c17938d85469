import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  OPTIONAL_COLUMNS,
  OUTPUT_COLUMNS,
  REQUIRED_COLUMNS,
  RowError,
  asRowError,
  computeRow,
  type CellNumbers,
  type InputColumn,
} from '../astm/batch.js';
import {
  columnIndex,
  formatCsvRecord,
  formatDecimal,
  neutraliseFormula,
  parseDecimal,
  type CsvDialect,
  type CsvFileReader,
  type CsvRecord,
} from '../csv.js';
import { UserError } from '../errors.js';

/**
 * The batch file, streamed: CSV records in, one output line per record out, in constant memory.
 * Every row goes through `computeRow` (src/astm/batch.ts); a bad row gets its error written in
 * the `error` column and never stops the others. Output goes to a `write` callback (stdout or
 * `writeFileAtomically`), so nothing here knows about the command line.
 */

export type WriteText = (text: string) => Promise<void>;

export interface BatchCounts {
  rows: number;
  /** rows with an error */
  failed: number;
}

/** Where the columns are, in the input and in the output. */
export interface BatchLayout {
  /** the file as error messages call it */
  file: string;
  /** number of columns of the input header */
  inputWidth: number;
  /** the output header: the input's, then the result columns it lacks */
  header: string[];
  input: Map<InputColumn, number>;
  /** vcf, density15_kgm3, volume15_l, error */
  output: [number, number, number, number];
}

/** Checks the header (throws CSV_MISSING_COLUMN) and places the result columns. */
export function batchLayout(inputHeader: readonly string[], file: string): BatchLayout {
  const input = new Map<InputColumn, number>();
  for (const c of [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS]) {
    const i = columnIndex(inputHeader, c);
    if (i >= 0) input.set(c, i);
    else if ((REQUIRED_COLUMNS as readonly string[]).includes(c)) {
      throw new UserError('CSV_MISSING_COLUMN', `${file} has no column "${c}" (required: ${REQUIRED_COLUMNS.join(', ')})`, {
        where: { file, line: 1, field: c },
      });
    }
  }
  // output columns already in the input (re-running on an output file) are overwritten in place
  const header = [...inputHeader];
  const output = OUTPUT_COLUMNS.map((c) => {
    const i = columnIndex(header, c);
    if (i >= 0) return i;
    header.push(c);
    return header.length - 1;
  }) as BatchLayout['output'];
  return { file, inputWidth: inputHeader.length, header, input, output };
}

/** The result cells of one row: computed numbers (file format) or an error, never both. */
export interface ResultCells {
  vcf: string;
  density15: string;
  volume15: string;
  error: string;
}

/**
 * One output record. The input's cells are copied through made spreadsheet-safe (they are
 * untrusted text: `=…` becomes `'=…`, a number stays as it is); the result cells are written as
 * computed, never altered.
 */
export function outputRecord(layout: BatchLayout, inputFields: readonly string[], result: ResultCells, dialect: CsvDialect): string[] {
  // the record's own fields, padded to the output width (a short row still gets its columns)
  const fields = inputFields.slice(0, layout.inputWidth).map((f) => neutraliseFormula(f, dialect.decimalComma));
  while (fields.length < layout.header.length) fields.push('');
  const [vcfAt, d15At, v15At, errAt] = layout.output;
  fields[vcfAt] = result.vcf;
  fields[d15At] = result.density15;
  fields[v15At] = result.volume15;
  fields[errAt] = result.error;
  return fields;
}

/** How the file writes numbers (a decimal comma in the `;` dialect). */
export function cellNumbers(dialect: CsvDialect): CellNumbers {
  return { parse: (t) => parseDecimal(t, dialect.decimalComma), format: (n) => formatDecimal(n, dialect.decimalComma) };
}

/** Computes one record; a bad row comes back as its error, described with the file and row. */
export function batchRecord(layout: BatchLayout, rec: CsvRecord, numbers: CellNumbers): ResultCells {
  try {
    const problem = recordProblem(rec, layout.inputWidth);
    if (problem) throw problem;
    const out = computeRow((c) => {
      const i = layout.input.get(c);
      return i === undefined ? undefined : rec.fields[i];
    }, numbers);
    return { ...out, error: '' };
  } catch (e) {
    const err = asRowError(e); // anything else is a bug: it surfaces with its stack
    const where = { file: layout.file, row: rec.row, ...(err.field ? { field: err.field } : {}) };
    return { vcf: '', density15: '', volume15: '', error: new UserError(err.code, err.message, { where }).describe() };
  }
}

function recordProblem(rec: CsvRecord, width: number): RowError | undefined {
  if (rec.error) return new RowError('CSV_MALFORMED', rec.error, undefined);
  if (rec.fields.length !== width)
    return new RowError('CSV_FIELD_COUNT', `expected ${width} fields as in the header, found ${rec.fields.length}`, undefined);
  return undefined;
}

/** Writes the output header then one line per record, in the input's dialect (delimiter, BOM, decimal comma). */
export async function streamBatch(csv: CsvFileReader, layout: BatchLayout, write: WriteText): Promise<BatchCounts> {
  const d = csv.dialect.delimiter;
  const header = layout.header.map((h) => neutraliseFormula(h, csv.dialect.decimalComma));
  const numbers = cellNumbers(csv.dialect);
  const sink = new LineSink(write);
  let rows = 0;
  let failed = 0;
  await sink.push((csv.dialect.bom ? '\uFEFF' : '') + formatCsvRecord(header, d));
  for await (const rec of csv.records) {
    rows++;
    const result = batchRecord(layout, rec, numbers);
    if (result.error) failed++;
    await sink.push(formatCsvRecord(outputRecord(layout, rec.fields, result, csv.dialect), d));
  }
  await sink.flush();
  return { rows, failed };
}

/** Buffers output lines and hands them to a sink in large pieces (stdout or a file). */
export class LineSink {
  private lines: string[] = [];
  constructor(private readonly flushTo: WriteText) {}
  async push(line: string): Promise<void> {
    this.lines.push(line);
    if (this.lines.length >= 2000) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    await this.flushTo(text);
  }
}

/**
 * Runs `fn` with a writer into `target`. Written beside the target then renamed: a failed run
 * never leaves half a file under its name, nor its temporary file. `displayName` is what the
 * CANNOT_WRITE error calls the file.
 */
export async function writeFileAtomically<T>(target: string, displayName: string, fn: (write: WriteText) => Promise<T>): Promise<T> {
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  let fh: FileHandle;
  try {
    fh = await open(temp, 'w');
  } catch (e) {
    throw new UserError('CANNOT_WRITE', `cannot write ${displayName}: ${(e as Error).message}`, {
      where: { file: displayName },
      cause: e,
    });
  }
  try {
    const result = await fn(async (t) => {
      await fh.write(t);
    });
    await fh.close();
    await rename(temp, target);
    return result;
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(temp, { force: true });
    throw e;
  }
}
