import { resolve } from 'node:path';
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
import { batchLayout, streamBatch, writeFileAtomically } from '../../astm-batch/stream.js';
import { openCsvFile, parseDecimal } from '../../csv.js';
import { UserError } from '../../errors.js';
import type { CommandContext, CommandSpec, OptionSpec } from '../command.js';
import { flagOption, stringOption } from '../options.js';

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

function numberOption(ctx: CommandContext, name: string, required: true): number;
function numberOption(ctx: CommandContext, name: string, required: false): number | undefined;
function numberOption(ctx: CommandContext, name: string, required: boolean): number | undefined {
  const v = stringOption(ctx, name);
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
    edition: parseEdition(stringOption(ctx, 'edition') ?? DEFAULT_EDITION),
    rounding: parseRoundingProfile(stringOption(ctx, 'rounding') ?? DEFAULT_ROUNDING),
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
        addendum2019: flagOption(ctx, 'addendum-2019'),
        ...(volumeL === undefined ? {} : { volumeL }),
      }),
    );
    ctx.out(flagOption(ctx, 'json') ? `${JSON.stringify(r)}\n` : humanVcf(r));
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
        hydrometer: flagOption(ctx, 'hydrometer'),
        edition,
        rounding,
        addendum2019: flagOption(ctx, 'addendum-2019'),
        ...(volumeL === undefined ? {} : { volumeL }),
      }),
    );
    ctx.out(flagOption(ctx, 'json') ? `${JSON.stringify(r)}\n` : humanDensity15(r));
  },
};

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
    'the output is written in the same dialect. Input cells copied to the output that a spreadsheet',
    "would take for a formula (starting with =, +, -, @, tab or CR, and not a number) get a leading '.",
    'Exit code 1 when at least one row has an error.',
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
    const layout = batchLayout(csv.header, inName); // a missing column is refused before anything is written
    const outName = stringOption(ctx, 'out');
    const { rows, failed } =
      outName === undefined
        ? await streamBatch(csv, layout, async (t) => ctx.out(t))
        : await writeFileAtomically(resolve(ctx.cwd, outName), outName, (write) => streamBatch(csv, layout, write));
    const seconds = (performance.now() - started) / 1000;
    ctx.log.info(
      `batch ${inName}: ${rows} rows, ${failed} with an error, ${seconds.toFixed(2)} s (${Math.round(rows / Math.max(seconds, 1e-9))} rows/s)`,
    );
    return failed > 0 ? 1 : 0;
  },
};

export const astmCommands: CommandSpec[] = [vcfCommand, density15Command, batchCommand];
