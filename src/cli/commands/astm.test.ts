import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { table53b, table54b } from '../../astm/index.js';
import { parseCsv } from '../../csv.js';
import type { CommandContext, CommandSpec } from '../command.js';
import { astmCommands } from './astm.js';
import { expectUserError as userError, runCommand } from '../../testing/command.js';

function command(name: string): CommandSpec {
  const c = astmCommands.find((x) => x.name === name);
  if (!c) throw new Error(`no command ${name}`);
  return c;
}

/** What the dispatcher does: option defaults from the spec, then run() with captured output. */
const run = (name: string, values: CommandContext['values'], positionals: string[] = [], cwd = process.cwd()) =>
  runCommand(command(name), values, positionals, { cwd });

describe('astm53b vcf', () => {
  it('prints an aligned block with the defaults 1980 / table', async () => {
    const { out, code } = await run('vcf', { density15: '840', temp: '30', volume: '40000' });
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe('Table 54B · edition 1980 · rounding table');
    const expected = table54b({ density15: 840, temperatureC: 30, volumeL: 40000 });
    expect(out).toMatch(new RegExp(`\n  VCF +${expected.vcf}\n`));
    expect(out).toMatch(new RegExp(`\n  volume at 15 °C +${expected.volume15L} L\n`));
    // values start in one column
    const valueColumn = (l: string) => l.length - l.replace(/^ {2}\S.*?\s{2,}/, '').length;
    const starts = new Set(lines.slice(1).map(valueColumn));
    expect(starts.size).toBe(1);
  });

  it('--json prints one object with the engine result', async () => {
    const { out } = await run('vcf', { density15: '840', temp: '30', edition: '2004', rounding: 'computed', volume: '40000', json: true });
    expect(out.endsWith('\n')).toBe(true);
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(out)).toEqual(
      JSON.parse(JSON.stringify(table54b({ density15: 840, temperatureC: 30, edition: '2004', rounding: 'computed', volumeL: 40000 }))),
    );
  });

  it('--addendum-2019 computes the volume from the unrounded CTL', async () => {
    const base = { density15: '840', temp: '30', edition: '2004', rounding: 'computed', volume: '40000', json: true };
    const a = JSON.parse((await run('vcf', base)).out);
    const b = JSON.parse((await run('vcf', { ...base, 'addendum-2019': true })).out);
    expect(b.volume15L).toBe(Math.round(40000 * b.vcfUnrounded * 10) / 10);
    expect(b.volume15L).not.toBe(a.volume15L);
  });

  it('says what is wrong and where, as a UserError', async () => {
    const unit = await userError(run('vcf', { density15: '0.8375', temp: '20' }));
    expect(unit.code).toBe('DENSITY_UNIT_SUSPECT');
    expect(unit.message).toContain('837.5 kg/m³');
    expect(unit.where?.field).toBe('--density15');
    expect((await userError(run('vcf', { density15: '840', temp: 'warm' }))).code).toBe('BAD_OPTION');
    // "40,000" must never become 40 L
    expect((await userError(run('vcf', { density15: '840', temp: '20', volume: '40,000' }))).message).toContain('dot');
    expect((await userError(run('vcf', { temp: '20' }))).message).toContain('--density15');
    expect((await userError(run('vcf', { density15: '840', temp: '20', edition: '1999' }))).code).toBe('UNKNOWN_EDITION');
    const range = await userError(run('vcf', { density15: '840', temp: '130' }));
    expect(range.code).toBe('TEMPERATURE_OUT_OF_RANGE');
    expect(range.describe()).toContain('field --temp');
  });

  it('documents the defaults in its help', () => {
    const spec = command('vcf');
    expect(spec.options.edition).toMatchObject({ default: '1980' });
    expect(spec.options.rounding).toMatchObject({ default: 'table' });
    expect(spec.details).toContain('Defaults: --edition 1980 --rounding table');
  });
});

describe('astm53b density15', () => {
  it('applies the glass correction only with --hydrometer (ML_PP: 840 kg/m³ at 20 °C → 843.4)', async () => {
    const glass = JSON.parse((await run('density15', { observed: '840', temp: '20', hydrometer: true, volume: '1000', json: true })).out);
    expect(glass).toMatchObject({ density15: 843.4, vcf: 0.9958, volume15L: 995.8, hydrometer: true });
    const meter = JSON.parse((await run('density15', { observed: '840', temp: '20', json: true })).out);
    expect(meter.hydrometer).toBe(false);
    expect(meter.density15).toBe(table53b({ observedDensity: 840, temperatureC: 20, hydrometer: false }).density15);
    expect(meter.density15).not.toBe(glass.density15);
  });

  it('prints the reading type and the corrected reading in text', async () => {
    const { out } = await run('density15', { observed: '835.5', temp: '28.35', hydrometer: true });
    const r = table53b({ observedDensity: 835.5, temperatureC: 28.35, hydrometer: true });
    expect(out).toContain('Table 53B · edition 1980 · rounding table');
    expect(out).toContain('glass hydrometer');
    expect(out).toContain(`${r.correctedDensity} kg/m³`);
    expect(out).toMatch(new RegExp(`density at 15 °C +${r.density15} kg/m³`));
    expect((await run('density15', { observed: '835.5', temp: '28.35' })).out).toContain('digital density meter');
  });

  it('maps engine errors to the option the user typed', async () => {
    const e = await userError(run('density15', { observed: '640', temp: '5' }));
    expect(e.code).toBe('DENSITY_OUT_OF_RANGE');
    expect(e.where?.field).toBe('--observed');
  });
});

describe('astm53b batch', () => {
  // what the rows come out as is tested beside the batch (src/astm/batch.test.ts, src/astm-batch/stream.test.ts);
  // here: the command's arguments, its output target, its exit code and its summary line
  const dir = mkdtempSync(join(tmpdir(), 'astm-batch-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return name;
  };
  const GOOD_AND_BAD = 'table,edition,rounding,density_kgm3,temperature_c\n54B,1980,table,840,30\n54B,1980,table,84O,30\n';

  it('prints the result CSV, logs the counts and exits 1 when a row has an error', async () => {
    const name = write('mixed.csv', GOOD_AND_BAD);
    const { code, out, log } = await run('batch', {}, [name], dir);
    expect(code).toBe(1);
    const p = parseCsv(out);
    expect(p.header.slice(-4)).toEqual(['vcf', 'density15_kgm3', 'volume15_l', 'error']);
    expect(p.records.map((r) => r.fields.at(-1))).toEqual([
      '',
      'INVALID_NUMBER: mixed.csv row 2 field density_kgm3: "84O" is not a number',
    ]);
    expect(log.join('\n')).toMatch(/2 rows, 1 with an error/);
  });

  it('exits 0 when every row computed', async () => {
    const name = write('good.csv', 'table,edition,rounding,density_kgm3,temperature_c\n54B,1980,table,840,30\n');
    const { code, log } = await run('batch', {}, [name], dir);
    expect(code).toBe(0);
    expect(log.join('\n')).toContain('1 rows, 0 with an error');
  });

  it('names the file and the missing column, and writes nothing', async () => {
    const name = write('nocol.csv', 'table,edition,rounding,density_kgm3\n54B,1980,table,840\n');
    const e = await userError(run('batch', { out: 'nocol-out.csv' }, [name], dir));
    expect(e.code).toBe('CSV_MISSING_COLUMN');
    expect(e.message).toContain('nocol.csv');
    expect(e.message).toContain('"temperature_c"');
    expect(e.where).toMatchObject({ file: 'nocol.csv', field: 'temperature_c' });
    expect(readdirSync(dir).filter((n) => n.startsWith('nocol-out') || n.endsWith('.tmp'))).toEqual([]);
  });

  it('names a missing input file', async () => {
    expect((await userError(run('batch', {}, ['absent.csv'], dir))).code).toBe('FILE_NOT_FOUND');
    expect((await userError(run('batch', {}, [], dir))).code).toBe('BAD_ARGUMENTS');
  });

  it('--out writes the file instead of stdout, leaving no temporary file', async () => {
    const name = write('to-file.csv', GOOD_AND_BAD);
    const printed = await run('batch', {}, [name], dir);
    const { code, out } = await run('batch', { out: 'to-file-out.csv' }, [name], dir);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(readFileSync(join(dir, 'to-file-out.csv'), 'utf8')).toBe(printed.out);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses an output path it cannot write', async () => {
    const name = write('ok.csv', 'table,edition,rounding,density_kgm3,temperature_c\n54B,1980,table,840,30\n');
    expect((await userError(run('batch', { out: join('no', 'such', 'dir', 'out.csv') }, [name], dir))).code).toBe('CANNOT_WRITE');
  });
});
