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
  const dir = mkdtempSync(join(tmpdir(), 'astm-batch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return name;
  };

  const MIXED = [
    'table,edition,rounding,density_kgm3,temperature_c,hydrometer,volume_l,note',
    '54B,1980,table,840,30,,40000,"plain, quoted"',
    '53B,1980,table,840,20,true,1000,ML_PP',
    '53B,2004,full,831,30,false,,',
    '54B,1980,table,84O,30,,,typo',
    '54B,1980,table,0.8375,30,,,kg/L',
    '54B,1980,table,840,130,,,hot',
    '55B,1980,table,840,30,,,',
    '54B,1980,table,840,30,true,,',
    '54B,,table,840,30,,,',
    '54B,1980,table,840,30',
    '54b,2004,computed,840,30,FALSE,40000,',
  ].join('\n');

  it('computes every good row, explains every bad one, and exits 1', async () => {
    const name = write('mixed.csv', MIXED + '\n');
    const { code, out, log } = await run('batch', {}, [name], dir);
    expect(code).toBe(1);
    const p = parseCsv(out);
    expect(p.header).toEqual([
      'table',
      'edition',
      'rounding',
      'density_kgm3',
      'temperature_c',
      'hydrometer',
      'volume_l',
      'note',
      'vcf',
      'density15_kgm3',
      'volume15_l',
      'error',
    ]);
    const rows = p.records.map((r) => Object.fromEntries(p.header.map((h, i) => [h, r.fields[i]])));
    expect(rows).toHaveLength(11);

    const r54 = table54b({ density15: 840, temperatureC: 30, volumeL: 40000 });
    expect(rows[0]).toMatchObject({
      note: 'plain, quoted',
      vcf: String(r54.vcf),
      density15_kgm3: '840',
      volume15_l: String(r54.volume15L),
      error: '',
    });
    expect(rows[1]).toMatchObject({ vcf: '0.9958', density15_kgm3: '843.4', volume15_l: '995.8', error: '' });
    const full = table53b({ observedDensity: 831, temperatureC: 30, hydrometer: false, edition: '2004', rounding: 'full' });
    // full precision: the shortest text that reads back as the same double
    expect(rows[2]).toMatchObject({ density15_kgm3: String(full.density15), vcf: String(full.vcf), volume15_l: '', error: '' });

    expect(rows[3]!.error).toBe(`INVALID_NUMBER: mixed.csv row 4 field density_kgm3: "84O" is not a number`);
    expect(rows[4]!.error).toMatch(/^DENSITY_UNIT_SUSPECT: mixed\.csv row 5 field density_kgm3: .*837\.5 kg\/m³/);
    expect(rows[5]!.error).toMatch(/^TEMPERATURE_OUT_OF_RANGE: mixed\.csv row 6 field temperature_c: .*limit 120 °C/);
    expect(rows[6]!.error).toMatch(/^INVALID_TABLE: mixed\.csv row 7 field table/);
    expect(rows[7]!.error).toMatch(/^INVALID_BOOLEAN: mixed\.csv row 8 field hydrometer/);
    expect(rows[8]!.error).toMatch(/^MISSING_VALUE: mixed\.csv row 9 field edition/);
    expect(rows[9]!.error).toMatch(/^CSV_FIELD_COUNT: mixed\.csv row 10: expected 8 fields/);
    for (const bad of rows.slice(3, 10)) expect([bad.vcf, bad.density15_kgm3, bad.volume15_l]).toEqual(['', '', '']);
    // case-insensitive table name and boolean word; one bad row did not stop the next
    const c = table54b({ density15: 840, temperatureC: 30, edition: '2004', rounding: 'computed', volumeL: 40000 });
    expect(rows[10]).toMatchObject({ vcf: String(c.vcf), volume15_l: String(c.volume15L), error: '' });
    expect(log.join('\n')).toMatch(/11 rows, 7 with an error/);
  });

  it('names the file and the missing column', async () => {
    const name = write('nocol.csv', 'table,edition,rounding,density_kgm3\n54B,1980,table,840\n');
    const e = await userError(run('batch', {}, [name], dir));
    expect(e.code).toBe('CSV_MISSING_COLUMN');
    expect(e.message).toContain('nocol.csv');
    expect(e.message).toContain('"temperature_c"');
    expect(e.where).toMatchObject({ file: 'nocol.csv', field: 'temperature_c' });
  });

  it('names a missing input file', async () => {
    expect((await userError(run('batch', {}, ['absent.csv'], dir))).code).toBe('FILE_NOT_FOUND');
  });

  it('keeps the French dialect: BOM, ; and decimal commas in and out', async () => {
    const name = write(
      'fr.csv',
      '\uFEFFtable;edition;rounding;density_kgm3;temperature_c;hydrometer;volume_l\r\n53B;1980;table;835,5;28,35;VRAI;39291,5\r\n54B;1980;full;840;30,5;;\r\n',
    );
    const { code, out } = await run('batch', { out: 'fr-out.csv' }, [name], dir);
    expect(code).toBe(0);
    expect(out).toBe('');
    const text = readFileSync(join(dir, 'fr-out.csv'), 'utf8');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const p = parseCsv(text);
    expect(p.dialect.delimiter).toBe(';');
    const r = table53b({ observedDensity: 835.5, temperatureC: 28.35, hydrometer: true, volumeL: 39291.5 });
    const f = table54b({ density15: 840, temperatureC: 30.5, rounding: 'full' });
    expect(p.records[0]!.fields.slice(7)).toEqual([
      String(r.vcf).replace('.', ','),
      String(r.density15).replace('.', ','),
      String(r.volume15L).replace('.', ','),
      '',
    ]);
    expect(p.records[1]!.fields.slice(7, 8)).toEqual([String(f.vcf).replace('.', ',')]);
    // no temporary file left beside the output
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('overwrites result columns of an earlier run instead of adding them twice', async () => {
    const first = await run(
      'batch',
      {},
      [write('again.csv', 'table,edition,rounding,density_kgm3,temperature_c\n54B,1980,table,840,30\n')],
      dir,
    );
    const second = await run('batch', {}, [write('again-out.csv', first.out)], dir);
    expect(second.out).toBe(first.out);
  });

  it('refuses an output path it cannot write, leaving nothing behind', async () => {
    const name = write('ok.csv', 'table,edition,rounding,density_kgm3,temperature_c\n54B,1980,table,840,30\n');
    expect((await userError(run('batch', { out: join('no', 'such', 'dir', 'out.csv') }, [name], dir))).code).toBe('CANNOT_WRITE');
  });

  // throughput is measured by `npm run bench` (src/cli/commands/astm.bench.ts), not asserted here
  it('streams 100 000 rows, every one answered', async () => {
    const lines = ['table,edition,rounding,density_kgm3,temperature_c,hydrometer,volume_l'];
    for (let i = 0; i < 100_000; i++) {
      const t53 = i % 2 === 0;
      lines.push(
        `${t53 ? '53B' : '54B'},${i % 3 === 0 ? '2004' : '1980'},${['table', 'computed', 'full'][i % 3]},${820 + (i % 400) / 10},${10 + (i % 350) / 10},${t53 && i % 4 === 0},40000`,
      );
    }
    const name = write('big.csv', lines.join('\n') + '\n');
    const { code, log } = await run('batch', { out: 'big-out.csv' }, [name], dir);
    expect(code).toBe(0);
    expect(log.join('\n')).toContain('100000 rows, 0 with an error');
    expect(readFileSync(join(dir, 'big-out.csv'), 'utf8').split('\n')).toHaveLength(100_002);
  }, 30_000);
});
