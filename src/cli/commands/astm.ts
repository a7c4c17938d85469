import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import {
  AstmError,
  DEFAULT_EDITION,
  DEFAULT_ROUNDING,
  EDITIONS,
  ROUNDING_PROFILES,
  isAstmError,
  parseEdition,
  parseRoundingProfile,
  table53b,
  table54b,
  type AstmField,
  type Table53BResult,
  type Table54BResult,
} from '../../astm/index.js';
import { columnIndex, formatCsvRecord, formatDecimal, openCsvFile, parseDecimal, type CsvDialect, type CsvRecord } from '../../csv.js';
import { UserError } from '../../errors.js';
import type { CommandContext, CommandSpec, OptionSpec } from '../command.js';

/**
 * `astm53b vcf`, `astm53b density15` and `astm53b batch`: the engine from the command line.
 * Other tools call these, so their options, output columns and JSON keys are a contract.
 */

const EDITION_OPTION: OptionSpec = {
  type: 'string',
  description: `edition of ASTM D1250 / API MPMS 11.1: ${EDITIONS.join(' or ')}`,
  default: DEFAULT_EDITION,
  valueName: 'YEAR',
};
const ROUNDING_OPTION: OptionSpec = {
  type: 'string',
  description: `rounding profile: ${ROUNDING_PROFILES.join(', ')}`,
  default: DEFAULT_ROUNDING,
  valueName: 'PROFILE',
};
const ADDENDUM_OPTION: OptionSpec = {
  type: 'boolean',
  description: 'edition 2004: volume from the unrounded CTL (Addendum 2, 2019)',
};
const JSON_OPTION: OptionSpec = { type: 'boolean', description: 'print one JSON object instead of text' };

const PROFILES_HELP = [
  'Rounding profiles:',
  '  table     the printed 1980 tables: VCF to 4 decimals, ρ15 to 0.1 kg/m³, volume to 0.1 L (default)',
  "  computed  the edition's implementation procedure: inputs rounded to 0.05 °C / 0.1 kg/m³;",
  '            VCF 4 decimals at or above 1 and 5 below (1980), 5 decimals (2004)',
  '  full      no rounding at all',
  `Defaults: --edition ${DEFAULT_EDITION} --rounding ${DEFAULT_ROUNDING}. Densities in kg/m³, temperatures in °C;`,
  'a negative temperature is written --temp=-5.',
].join('\n');

/** Where an engine field is given on the command line. */
const CLI_FIELD: Record<AstmField, string> = {
  density15: '--density15',
  observedDensity: '--observed',
  temperatureC: '--temp',
  pressureKpa: 'pressure',
  volumeL: '--volume',
  edition: '--edition',
  rounding: '--rounding',
  options: 'options',
};

function toUserError(e: AstmError): UserError {
  return new UserError(e.code, e.message, { where: { field: CLI_FIELD[e.field] }, cause: e });
}

function runEngine<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isAstmError(e)) throw toUserError(e);
    throw e;
  }
}

function stringValue(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  if (v === undefined || v === false) return undefined;
  if (typeof v !== 'string') throw new UserError('BAD_OPTION', `--${name} takes one value`, { where: { field: `--${name}` } });
  return v;
}

function numberOption(ctx: CommandContext, name: string, required: true): number;
function numberOption(ctx: CommandContext, name: string, required: false): number | undefined;
function numberOption(ctx: CommandContext, name: string, required: boolean): number | undefined {
  const v = stringValue(ctx, name);
  if (v === undefined) {
    if (required) throw new UserError('BAD_OPTION', `--${name} is required`, { where: { field: `--${name}` } });
    return undefined;
  }
  // a comma is refused rather than guessed: "40,000" must not become 40 L
  const n = parseDecimal(v, false);
  if (n === undefined) {
    throw new UserError('BAD_OPTION', `--${name} must be a number with a dot as decimal separator, got "${v}"`, {
      where: { field: `--${name}` },
    });
  }
  return n;
}

function editionAndRounding(ctx: CommandContext) {
  return runEngine(() => ({
    edition: parseEdition(stringValue(ctx, 'edition') ?? DEFAULT_EDITION),
    rounding: parseRoundingProfile(stringValue(ctx, 'rounding') ?? DEFAULT_ROUNDING),
  }));
}

const GROUP_LABEL: Record<string, string> = {
  gasoline: 'gasolines',
  transition_zone: 'transition zone',
  jet_fuel: 'jet fuels / kerosene',
  fuel_oil: 'fuel oils (gasoil, diesel)',
};

/** Label/value lines with the values aligned. */
function block(title: string, rows: [string, string | undefined][]): string {
  const shown = rows.filter((r): r is [string, string] => r[1] !== undefined);
  const width = Math.max(...shown.map(([l]) => l.length));
  return [title, ...shown.map(([l, v]) => `  ${l.padEnd(width)}  ${v}`)].join('\n') + '\n';
}

function humanVcf(r: Table54BResult): string {
  return block(`Table 54B · edition ${r.edition} · rounding ${r.rounding}`, [
    ['density at 15 °C', `${r.density15} kg/m³`],
    ['temperature', `${r.temperatureC} °C`],
    ['product group', GROUP_LABEL[r.productGroup] ?? r.productGroup],
    ['VCF', String(r.vcf)],
    ['volume', r.volumeL === undefined ? undefined : `${r.volumeL} L`],
    ['volume at 15 °C', r.volume15L === undefined ? undefined : `${r.volume15L} L`],
  ]);
}

function humanDensity15(r: Table53BResult): string {
  return block(`Table 53B · edition ${r.edition} · rounding ${r.rounding}`, [
    ['observed density', `${r.observedDensity} kg/m³ (${r.hydrometer ? 'glass hydrometer' : 'digital density meter'})`],
    ['glass-corrected', r.hydrometer ? `${r.correctedDensity} kg/m³` : undefined],
    ['temperature', `${r.temperatureC} °C`],
    ['density at 15 °C', `${r.density15} kg/m³`],
    ['product group', GROUP_LABEL[r.productGroup] ?? r.productGroup],
    [`VCF at ${r.temperatureC} °C`, String(r.vcf)],
    ['volume', r.volumeL === undefined ? undefined : `${r.volumeL} L`],
    ['volume at 15 °C', r.volume15L === undefined ? undefined : `${r.volume15L} L`],
  ]);
}

const vcfCommand: CommandSpec = {
  name: 'vcf',
  summary: 'Table 54B: volume correction factor from the density at 15 °C and a temperature',
  details: PROFILES_HELP,
  options: {
    density15: { type: 'string', description: 'density at 15 °C, kg/m³', valueName: 'KGM3' },
    temp: { type: 'string', description: 'temperature of the volume, °C', valueName: 'C' },
    edition: EDITION_OPTION,
    rounding: ROUNDING_OPTION,
    volume: { type: 'string', description: 'ambient volume, L: also print the volume at 15 °C', valueName: 'L' },
    'addendum-2019': ADDENDUM_OPTION,
    json: JSON_OPTION,
  },
  async run(ctx) {
    const density15 = numberOption(ctx, 'density15', true);
    const temperatureC = numberOption(ctx, 'temp', true);
    const volumeL = numberOption(ctx, 'volume', false);
    const { edition, rounding } = editionAndRounding(ctx);
    const r = runEngine(() =>
      table54b({
        density15,
        temperatureC,
        edition,
        rounding,
        addendum2019: ctx.values['addendum-2019'] === true,
        ...(volumeL === undefined ? {} : { volumeL }),
      }),
    );
    ctx.out(ctx.values.json === true ? `${JSON.stringify(r)}\n` : humanVcf(r));
  },
};

const density15Command: CommandSpec = {
  name: 'density15',
  summary: 'Table 53B: density at 15 °C from a density observed at a temperature',
  details: [
    'Give --hydrometer when the density was read on a glass hydrometer: the soda-lime glass',
    'correction is then applied (the printed 1980 Table 53B includes it). Without it the reading is',
    "taken as a digital density meter's, which needs no correction.",
    '',
    PROFILES_HELP,
  ].join('\n'),
  options: {
    observed: { type: 'string', description: 'observed density, kg/m³', valueName: 'KGM3' },
    temp: { type: 'string', description: 'temperature of the sample when read, °C', valueName: 'C' },
    hydrometer: { type: 'boolean', description: 'the density is a glass hydrometer reading' },
    edition: EDITION_OPTION,
    rounding: ROUNDING_OPTION,
    volume: { type: 'string', description: 'ambient volume, L: also print the volume at 15 °C', valueName: 'L' },
    'addendum-2019': ADDENDUM_OPTION,
    json: JSON_OPTION,
  },
  async run(ctx) {
    const observedDensity = numberOption(ctx, 'observed', true);
    const temperatureC = numberOption(ctx, 'temp', true);
    const volumeL = numberOption(ctx, 'volume', false);
    const { edition, rounding } = editionAndRounding(ctx);
    const r = runEngine(() =>
      table53b({
        observedDensity,
        temperatureC,
        hydrometer: ctx.values.hydrometer === true,
        edition,
        rounding,
        addendum2019: ctx.values['addendum-2019'] === true,
        ...(volumeL === undefined ? {} : { volumeL }),
      }),
    );
    ctx.out(ctx.values.json === true ? `${JSON.stringify(r)}\n` : humanDensity15(r));
  },
};

// ---------------------------------------------------------------------------------------------
// batch

const REQUIRED_COLUMNS = ['table', 'edition', 'rounding', 'density_kgm3', 'temperature_c'] as const;
const OPTIONAL_COLUMNS = ['hydrometer', 'volume_l', 'addendum_2019'] as const;
const OUTPUT_COLUMNS = ['vcf', 'density15_kgm3', 'volume15_l', 'error'] as const;

type InputColumn = (typeof REQUIRED_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number];

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

class RowError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field: string | undefined,
  ) {
    super(message);
  }
}

interface BatchRowOutput {
  vcf: string;
  density15: string;
  volume15: string;
}

function computeRow(get: (c: InputColumn) => string | undefined, dialect: CsvDialect): BatchRowOutput {
  const text = (c: InputColumn) => (get(c) ?? '').trim();
  const number = (c: InputColumn, required: boolean): number | undefined => {
    const t = text(c);
    if (t === '') {
      if (required) throw new RowError('MISSING_VALUE', `${c} is empty`, c);
      return undefined;
    }
    const n = parseDecimal(t, dialect.decimalComma);
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
  const fmt = (n: number | undefined) => (n === undefined ? '' : formatDecimal(n, dialect.decimalComma));
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

function describeRowError(e: unknown, file: string, row: number): string {
  if (e instanceof RowError)
    return new UserError(e.code, e.message, { where: { file, row, ...(e.field ? { field: e.field } : {}) } }).describe();
  if (isAstmError(e)) {
    const field = BATCH_FIELD[e.field];
    return new UserError(e.code, e.message, { where: { file, row, ...(field ? { field } : {}) } }).describe();
  }
  throw e; // anything else is a bug: let it surface with its stack
}

/** Buffers output lines and hands them to a sink in large pieces (stdout or a file). */
class LineSink {
  private lines: string[] = [];
  constructor(private readonly flushTo: (text: string) => Promise<void>) {}
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

async function withOutput<T>(
  ctx: CommandContext,
  outOption: string | undefined,
  fn: (write: (text: string) => Promise<void>) => Promise<T>,
): Promise<T> {
  if (outOption === undefined) {
    return fn(async (t) => ctx.out(t));
  }
  const target = resolve(ctx.cwd, outOption);
  // written beside the target then renamed: a failed run never leaves half a file under its name
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  let fh: FileHandle;
  try {
    fh = await open(temp, 'w');
  } catch (e) {
    throw new UserError('CANNOT_WRITE', `cannot write ${outOption}: ${(e as Error).message}`, { where: { file: outOption }, cause: e });
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

const batchCommand: CommandSpec = {
  name: 'batch',
  summary: 'Tables 53B/54B for every row of a CSV file (streamed)',
  details: [
    'Input columns: table (53B or 54B), edition (1980|2004), rounding (table|computed|full),',
    'density_kgm3 (ρ15 for 54B, observed density for 53B), temperature_c; optional hydrometer',
    '(true/false, 53B only; absent or empty means a digital meter reading), volume_l, addendum_2019.',
    'Output: the input columns, then vcf, density15_kgm3, volume15_l and error ("CODE: file row N',
    'field F: message", empty when the row computed). A bad row never stops the others. Numbers are',
    "written at the precision the row's rounding profile gives, nothing more is rounded.",
    'A file whose header uses ";" (French spreadsheet export) may use decimal commas and a UTF-8 BOM;',
    'the output is written in the same dialect. Exit code 1 when at least one row has an error.',
    '',
    PROFILES_HELP,
  ].join('\n'),
  positionals: [{ name: 'IN.csv', description: 'input CSV file', required: true }],
  options: {
    out: { type: 'string', description: 'write the result here instead of stdout', valueName: 'OUT.csv' },
  },
  async run(ctx) {
    const inName = ctx.positionals[0];
    if (!inName) throw new UserError('BAD_ARGUMENTS', 'missing IN.csv; see astm53b batch --help');
    const started = performance.now();
    const csv = await openCsvFile(resolve(ctx.cwd, inName), inName);
    const index = new Map<InputColumn, number>();
    for (const c of [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS]) {
      const i = columnIndex(csv.header, c);
      if (i >= 0) index.set(c, i);
      else if ((REQUIRED_COLUMNS as readonly string[]).includes(c)) {
        throw new UserError('CSV_MISSING_COLUMN', `${inName} has no column "${c}" (required: ${REQUIRED_COLUMNS.join(', ')})`, {
          where: { file: inName, line: 1, field: c },
        });
      }
    }
    // output columns already in the input (re-running on an output file) are overwritten in place
    const header = [...csv.header];
    const outIndex = OUTPUT_COLUMNS.map((c) => {
      const i = columnIndex(header, c);
      if (i >= 0) return i;
      header.push(c);
      return header.length - 1;
    });
    const d = csv.dialect.delimiter;
    let rows = 0;
    let failed = 0;
    await withOutput(ctx, stringValue(ctx, 'out'), async (write) => {
      const sink = new LineSink(write);
      await sink.push((csv.dialect.bom ? '\uFEFF' : '') + formatCsvRecord(header, d));
      for await (const rec of csv.records) {
        rows++;
        const fields = fitTo(rec, csv.header.length, header.length);
        const [vcfAt, d15At, v15At, errAt] = outIndex as [number, number, number, number];
        try {
          const problem = recordProblem(rec, csv.header.length);
          if (problem) throw problem;
          const out = computeRow((c) => {
            const i = index.get(c);
            return i === undefined ? undefined : rec.fields[i];
          }, csv.dialect);
          fields[vcfAt] = out.vcf;
          fields[d15At] = out.density15;
          fields[v15At] = out.volume15;
          fields[errAt] = '';
        } catch (e) {
          failed++;
          fields[vcfAt] = fields[d15At] = fields[v15At] = '';
          fields[errAt] = describeRowError(e, inName, rec.row);
        }
        await sink.push(formatCsvRecord(fields, d));
      }
      await sink.flush();
    });
    const seconds = (performance.now() - started) / 1000;
    ctx.log.info(
      `batch ${inName}: ${rows} rows, ${failed} with an error, ${seconds.toFixed(2)} s (${Math.round(rows / Math.max(seconds, 1e-9))} rows/s)`,
    );
    return failed > 0 ? 1 : 0;
  },
};

function recordProblem(rec: CsvRecord, width: number): RowError | undefined {
  if (rec.error) return new RowError('CSV_MALFORMED', rec.error, undefined);
  if (rec.fields.length !== width)
    return new RowError('CSV_FIELD_COUNT', `expected ${width} fields as in the header, found ${rec.fields.length}`, undefined);
  return undefined;
}

/** The record's own fields, padded to the output width (a short row still gets its columns). */
function fitTo(rec: CsvRecord, inputWidth: number, outputWidth: number): string[] {
  const fields = rec.fields.slice(0, Math.max(inputWidth, 0));
  while (fields.length < outputWidth) fields.push('');
  return fields;
}

export const astmCommands: CommandSpec[] = [vcfCommand, density15Command, batchCommand];
