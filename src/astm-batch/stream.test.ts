import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { table53b, table54b } from '../astm/index.js';
import { openCsvFile, parseCsv } from '../csv.js';
import { expectUserError as userError, expectUserErrorSync as userErrorSync } from '../testing/command.js';
import { batchLayout, LineSink, outputRecord, streamBatch, writeFileAtomically } from './stream.js';

const dir = mkdtempSync(join(tmpdir(), 'astm-batch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return name;
};

/** The batch on a file, its output collected as text. */
async function batch(name: string): Promise<{ out: string; rows: number; failed: number }> {
  const csv = await openCsvFile(join(dir, name), name);
  let out = '';
  const counts = await streamBatch(csv, batchLayout(csv.header, name), async (t) => {
    out += t;
  });
  return { out, ...counts };
}

/** The batch into a file (as `--out` does); returns the counts. */
async function batchToFile(name: string, outName: string) {
  const csv = await openCsvFile(join(dir, name), name);
  const layout = batchLayout(csv.header, name);
  return writeFileAtomically(join(dir, outName), outName, (w) => streamBatch(csv, layout, w));
}

const records = (out: string) => {
  const p = parseCsv(out);
  return p.records.map((r) => Object.fromEntries(p.header.map((h, i) => [h, r.fields[i]])));
};

describe('batch stream', () => {
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

  it('computes every good row and explains every bad one', async () => {
    const name = write('mixed.csv', MIXED + '\n');
    const { out, rows: count, failed } = await batch(name);
    expect({ rows: count, failed }).toEqual({ rows: 11, failed: 7 });
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
    const rows = records(out);
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
  });

  it('names the file and the missing column', () => {
    const e = userErrorSync(() => batchLayout(['table', 'edition', 'rounding', 'density_kgm3'], 'nocol.csv'));
    expect(e.code).toBe('CSV_MISSING_COLUMN');
    expect(e.message).toContain('nocol.csv');
    expect(e.message).toContain('"temperature_c"');
    expect(e.where).toMatchObject({ file: 'nocol.csv', field: 'temperature_c' });
  });

  it('keeps the French dialect: BOM, ; and decimal commas in and out', async () => {
    const name = write(
      'fr.csv',
      '\uFEFFtable;edition;rounding;density_kgm3;temperature_c;hydrometer;volume_l\r\n53B;1980;table;835,5;28,35;VRAI;39291,5\r\n54B;1980;full;840;30,5;;\r\n',
    );
    expect(await batchToFile(name, 'fr-out.csv')).toEqual({ rows: 2, failed: 0 });
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
    const first = await batch(write('again.csv', 'table,edition,rounding,density_kgm3,temperature_c\n54B,1980,table,840,30\n'));
    const second = await batch(write('again-out.csv', first.out));
    expect(second.out).toBe(first.out);
  });

  it('refuses an output path it cannot write, leaving nothing behind', async () => {
    const name = write('ok.csv', 'table,edition,rounding,density_kgm3,temperature_c\n54B,1980,table,840,30\n');
    expect((await userError(batchToFile(name, join('no', 'such', 'dir', 'out.csv')))).code).toBe('CANNOT_WRITE');
  });

  it('removes its temporary file and keeps the target untouched when the run fails', async () => {
    write('kept.csv', 'before\n');
    await expect(
      writeFileAtomically(join(dir, 'kept.csv'), 'kept.csv', async (w) => {
        await w('half');
        throw new Error('stopped');
      }),
    ).rejects.toThrow('stopped');
    expect(readFileSync(join(dir, 'kept.csv'), 'utf8')).toBe('before\n');
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
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
    expect(await batchToFile(name, 'big-out.csv')).toEqual({ rows: 100_000, failed: 0 });
    expect(readFileSync(join(dir, 'big-out.csv'), 'utf8').split('\n')).toHaveLength(100_002);
  }, 30_000);

  it('hands lines on in large pieces, each ending with a line break', async () => {
    const pieces: string[] = [];
    const sink = new LineSink(async (t) => {
      pieces.push(t);
    });
    for (let i = 0; i < 4500; i++) await sink.push(String(i));
    expect(pieces.map((p) => p.split('\n').length - 1)).toEqual([2000, 2000]);
    await sink.flush();
    await sink.flush();
    expect(pieces.map((p) => p.split('\n').length - 1)).toEqual([2000, 2000, 500]);
    expect(pieces.join('')).toBe(Array.from({ length: 4500 }, (_, i) => `${i}\n`).join(''));
  });
});

describe('batch output opened in a spreadsheet (CSV formula injection)', () => {
  const PAYLOAD = `=cmd|' /C calc'!A0`;

  it('prefixes copied cells that start like a formula with a quote, never numbers', async () => {
    const name = write(
      'inject.csv',
      [
        'table,edition,rounding,density_kgm3,temperature_c,reference,@owner',
        `54B,1980,table,840,-5,${PAYLOAD},+33 1 23`,
        `54B,1980,table,840,30,-5,@SUM(1+1)`,
        `54B,1980,table,=1+1,30,-,\t=x`,
      ].join('\n') + '\n',
    );
    const { out, failed } = await batch(name);
    expect(failed).toBe(1);
    // nothing in it needs CSV quotes: the prefixed payload is written as is
    expect(out.split('\n')[1]).toContain(`,'${PAYLOAD},`);
    const p = parseCsv(out);
    expect(p.header.slice(5, 7)).toEqual(['reference', `'@owner`]);
    const [a, b, c] = p.records.map((r) => r.fields);
    const r = table54b({ density15: 840, temperatureC: -5 });
    // a numeric input column the engine reads stays a number: -5 °C is computed and written back as -5
    expect(a).toEqual(['54B', '1980', 'table', '840', '-5', `'${PAYLOAD}`, `'+33 1 23`, String(r.vcf), '840', '', '']);
    // a free-text cell holding a number is left alone too: a number runs nothing
    expect(b!.slice(4, 7)).toEqual(['30', '-5', `'@SUM(1+1)`]);
    // a numeric column holding a formula is refused, and the copy of the cell is defused
    expect(c!.slice(3, 7)).toEqual([`'=1+1`, '30', `'-`, `'\t=x`]);
    expect(c![10]).toMatch(/^INVALID_NUMBER: inject\.csv row 3 field density_kgm3: "=1\+1" is not a number/);
  });

  it('writes the computed cells exactly as given, a negative number included', () => {
    const layout = batchLayout(['table', 'edition', 'rounding', 'density_kgm3', 'temperature_c', 'note'], 'in.csv');
    const dialect = { delimiter: ',', bom: false, decimalComma: false } as const;
    // the engine refuses negative volumes, so a computed "-" never occurs today: the copy rule must not depend on it
    const fields = outputRecord(
      layout,
      ['54B', '1980', 'table', '840', '-5', PAYLOAD],
      { vcf: '-0.25', density15: '-840', volume15: '-1e3', error: '' },
      dialect,
    );
    expect(fields).toEqual(['54B', '1980', 'table', '840', '-5', `'${PAYLOAD}`, '-0.25', '-840', '-1e3', '']);
  });

  it('keeps a re-run stable: a cell defused once is not prefixed again', async () => {
    const first = await batch(
      write('inject-again.csv', `table,edition,rounding,density_kgm3,temperature_c,note\n54B,1980,table,840,30,${PAYLOAD}\n`),
    );
    const second = await batch(write('inject-again-out.csv', first.out));
    expect(second.out).toBe(first.out);
  });

  it('reads numbers in the file dialect: -3,5 in a ; file is a number', async () => {
    const { out } = await batch(
      write('inject-fr.csv', 'table;edition;rounding;density_kgm3;temperature_c;note\n54B;1980;table;840;-3,5;-3,5\n'),
    );
    expect(parseCsv(out).records[0]!.fields.slice(4, 6)).toEqual(['-3,5', '-3,5']);
  });
});
