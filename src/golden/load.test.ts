import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { loadGoldenFile, parseGoldenCsv, parseGoldenJson } from './load.js';
import { expectUserErrorSync as fails } from '../testing/command.js';

const dir = mkdtempSync(join(tmpdir(), 'astm53b-golden-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEADER =
  'reference,produit_code,date_mesure,volume_observe_l,temperature_c,densite_observee_kgm3,densite_a_15_kgm3_ref,vcf_ref,volume_15c_ref_l,source,note';
const ROW1 = 'SEP-01,GASOIL,2026-02-24,39291,22.4,837.0,841.5,0.9937,39043,SEP_API_OFFICIEL,first truck';
const ROW2 = 'SEP-02,GASOIL,2026-02-25,35000,28.0,836.2,845.2,0.9890,34615,SEP_API_OFFICIEL,';

function csv(...rows: string[]): string {
  return [HEADER, ...rows].join('\n') + '\n';
}

describe('golden files: loading', () => {
  it('reads the canonical CSV, with empty nullable cells as null', () => {
    const set = parseGoldenCsv(csv(ROW1, ROW2), 'g.csv');
    expect(set.cases).toHaveLength(2);
    expect(set.cases[0]!.case).toMatchObject({
      reference: 'SEP-01',
      volume_observe_l: 39291,
      temperature_c: 22.4,
      vcf_ref: 0.9937,
      note: 'first truck',
    });
    expect(set.cases[1]!.case.note).toBeNull();
    expect(set.cases[1]!.where).toEqual({ file: 'g.csv', line: 3, row: 2 });
  });

  it('reads a French spreadsheet export (BOM, ";", decimal commas, dd/mm/yyyy) to the same cases', () => {
    const french =
      '\uFEFF' +
      [
        HEADER.replaceAll(',', ';'),
        'SEP-01;GASOIL;24/02/2026;39291;22,4;837,0;841,5;0,9937;39043;SEP_API_OFFICIEL;first truck',
        'SEP-02;GASOIL;25/02/2026;35000;28;836,2;845,2;0,9890;34615;SEP_API_OFFICIEL;',
      ].join('\r\n');
    expect(parseGoldenCsv(french, 'fr.csv').cases.map((c) => c.case)).toEqual(
      parseGoldenCsv(csv(ROW1, ROW2), 'g.csv').cases.map((c) => c.case),
    );
  });

  it("reads JSON (array or {cases}) to the same cases, and finds each case's line", () => {
    const fromCsv = parseGoldenCsv(csv(ROW1, ROW2), 'g.csv').cases.map((c) => c.case);
    const json = JSON.stringify({ $schema: './golden-cases.schema.json', cases: fromCsv }, null, 2);
    const set = parseGoldenJson(json, 'g.json');
    expect(set.cases.map((c) => c.case)).toEqual(fromCsv);
    expect(json.split('\n')[set.cases[1]!.where.line! - 1]).toContain('"SEP-02"');
    expect(parseGoldenJson(JSON.stringify(fromCsv), 'a.json').cases).toHaveLength(2);
  });

  it('loads the committed demo file and the committed template is headers only', async () => {
    const demo = await loadGoldenFile('golden/demo-golden-cases.csv');
    expect(demo.cases).toHaveLength(8);
    for (const c of demo.cases) {
      expect(c.case.source).toBe('DEMO_COMPUTED');
      expect(c.case.note).toMatch(/^DEMO/);
      expect(c.case.reception_id).toMatch(/^[0-9a-f-]{36}$/);
    }
    const err = await loadGoldenFile('golden/template-receptions.csv').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('GOLDEN_EMPTY');
  });

  it('detects JSON by content and names a missing file', async () => {
    const p = join(dir, 'cases.txt');
    writeFileSync(p, JSON.stringify(parseGoldenCsv(csv(ROW1), 'g.csv').cases.map((c) => c.case)));
    expect((await loadGoldenFile(p, 'cases.txt')).cases).toHaveLength(1);
    const err = (await loadGoldenFile(join(dir, 'nope.csv'), 'nope.csv').catch((e: unknown) => e)) as UserError;
    expect(err.code).toBe('FILE_NOT_FOUND');
    expect(err.where?.file).toBe('nope.csv');
  });
});

describe('golden files: encoding', () => {
  const write = (name: string, bytes: Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const withNote = (note: string) => csv(ROW1, ROW2.replace(/,$/, `,${note}`));

  it('reads UTF-8 with accents (and a BOM) as written', async () => {
    const set = await loadGoldenFile(write('utf8.csv', Buffer.from(`\uFEFF${withNote('réception à Kinshasa')}`, 'utf8')), 'utf8.csv');
    expect(set.cases[1]!.case.note).toBe('réception à Kinshasa');
  });

  it('refuses a latin-1 CSV (a spreadsheet saved as plain "CSV"), naming line, row and column, instead of reading U+FFFD', async () => {
    const file = write('latin1.csv', Buffer.from(withNote('réception à Kinshasa'), 'latin1'));
    const e = (await loadGoldenFile(file, 'latin1.csv').catch((x: unknown) => x)) as UserError;
    expect(e).toBeInstanceOf(UserError);
    expect(e.code).toBe('NOT_UTF8');
    expect(e.where).toEqual({ file: 'latin1.csv', line: 3, row: 2, field: 'note' });
    expect(e.describe()).toBe(
      'NOT_UTF8: latin1.csv:3 row 2 field note: byte 0xE9 is not UTF-8: the file is saved in another encoding (read as latin-1: ".9890,34615,SEP_API_OFFICIEL,ré") (re-save it as UTF-8: Excel "CSV UTF-8 (comma delimited)", LibreOffice character set "Unicode (UTF-8)")',
    );
  });

  it('refuses one stray byte anywhere, a French ";" export, JSON, and UTF-16', async () => {
    const stray = Buffer.concat([
      Buffer.from(`${HEADER}\n${ROW1}\n`),
      Buffer.from('SEP-02,GASOIL,2026-02-25,35000,28.0,836.2,845.2,0.9890,34615,SEP'),
      Buffer.from([0x96]),
      Buffer.from(',\n'),
    ]);
    expect((await loadGoldenFile(write('stray.csv', stray), 'stray.csv').catch((x: unknown) => x)) as UserError).toMatchObject({
      code: 'NOT_UTF8',
      where: { line: 3, row: 2, field: 'source' },
    });
    const french = [
      HEADER.replaceAll(',', ';'),
      'SEP-01;GASOIL;24/02/2026;39291;22,4;837,0;841,5;0,9937;39043;SEP_API_OFFICIEL;dépôt',
    ].join('\r\n');
    expect(
      ((await loadGoldenFile(write('fr.csv', Buffer.from(french, 'latin1')), 'fr.csv').catch((x: unknown) => x)) as UserError).where,
    ).toEqual({
      file: 'fr.csv',
      line: 2,
      row: 1,
      field: 'note',
    });
    const json = JSON.stringify([{ reference: 'SEP-01', note: 'dépôt' }], null, 2);
    expect(
      ((await loadGoldenFile(write('g.json', Buffer.from(json, 'latin1')), 'g.json').catch((x: unknown) => x)) as UserError).where,
    ).toEqual({
      file: 'g.json',
      line: 4,
    });
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv(ROW1), 'utf16le')]);
    expect(((await loadGoldenFile(write('u16.csv', utf16), 'u16.csv').catch((x: unknown) => x)) as UserError).message).toMatch(/UTF-16/);
  });
});

describe('golden files: every bad input is a UserError naming file, row and column', () => {
  const cases: [string, () => unknown, string, { line?: number; row?: number; field?: string }][] = [
    [
      'missing column',
      () => parseGoldenCsv(csv(ROW1).replace(',vcf_ref', ''), 'g.csv'),
      'GOLDEN_MISSING_COLUMN',
      { line: 1, field: 'vcf_ref' },
    ],
    [
      'unknown column',
      () => parseGoldenCsv(`${HEADER},operator\n${ROW1},Jean\n`, 'g.csv'),
      'GOLDEN_UNKNOWN_COLUMN',
      { line: 1, field: 'operator' },
    ],
    [
      'duplicated reference',
      () => parseGoldenCsv(csv(ROW1, ROW2, ROW1), 'g.csv'),
      'GOLDEN_DUPLICATE_REFERENCE',
      { line: 4, row: 3, field: 'reference' },
    ],
    ['empty file', () => parseGoldenCsv('', 'g.csv'), 'CSV_EMPTY', {}],
    ['header only', () => parseGoldenCsv(csv(), 'g.csv'), 'GOLDEN_EMPTY', {}],
    [
      'non-numeric cell',
      () => parseGoldenCsv(csv(ROW1, ROW2.replace('28.0', '28.0C')), 'g.csv'),
      'GOLDEN_NOT_A_NUMBER',
      { line: 3, row: 2, field: 'temperature_c' },
    ],
    [
      'density in g/cm³',
      () => parseGoldenCsv(csv(ROW1.replace('837.0', '0.8370')), 'g.csv'),
      'GOLDEN_DENSITY_UNIT',
      { line: 2, row: 1, field: 'densite_observee_kgm3' },
    ],
    [
      'ρ15 in g/cm³',
      () => parseGoldenCsv(csv(ROW1.replace('841.5', '0.8415')), 'g.csv'),
      'GOLDEN_DENSITY_UNIT',
      { row: 1, field: 'densite_a_15_kgm3_ref' },
    ],
    [
      'temperature outside the table',
      () => parseGoldenCsv(csv(ROW1.replace('22.4', '224')), 'g.csv'),
      'GOLDEN_TEMPERATURE_OUT_OF_RANGE',
      { row: 1, field: 'temperature_c' },
    ],
    [
      'temperature below the table',
      () => parseGoldenCsv(csv(ROW2.replace('28.0', '-30')), 'g.csv'),
      'GOLDEN_TEMPERATURE_OUT_OF_RANGE',
      { row: 1, field: 'temperature_c' },
    ],
    [
      'density outside the table',
      () => parseGoldenCsv(csv(ROW1.replace('837.0', '1200.0')), 'g.csv'),
      'GOLDEN_DENSITY_OUT_OF_RANGE',
      { row: 1, field: 'densite_observee_kgm3' },
    ],
    [
      'negative volume',
      () => parseGoldenCsv(csv(ROW1, ROW2.replace('35000', '-35000')), 'g.csv'),
      'GOLDEN_NEGATIVE_VOLUME',
      { line: 3, row: 2, field: 'volume_observe_l' },
    ],
    [
      'negative SEP volume',
      () => parseGoldenCsv(csv(ROW2.replace('34615', '-34615')), 'g.csv'),
      'GOLDEN_NEGATIVE_VOLUME',
      { field: 'volume_15c_ref_l' },
    ],
    [
      'empty required cell',
      () => parseGoldenCsv(csv(ROW1.replace('GASOIL', '')), 'g.csv'),
      'GOLDEN_EMPTY_CELL',
      { row: 1, field: 'produit_code' },
    ],
    [
      'bad date',
      () => parseGoldenCsv(csv(ROW1.replace('2026-02-24', 'yesterday')), 'g.csv'),
      'GOLDEN_INVALID_VALUE',
      { row: 1, field: 'date_mesure' },
    ],
    [
      'impossible date (February 31st)',
      () => parseGoldenCsv(csv(ROW1, ROW2.replace('2026-02-25', '2026-02-31')), 'g.csv'),
      'GOLDEN_INVALID_VALUE',
      { line: 3, row: 2, field: 'date_mesure' },
    ],
    [
      'impossible date in a French export (29/02 of a common year)',
      () => parseGoldenCsv(csv(ROW1.replace('2026-02-24', '29/02/2025')), 'g.csv'),
      'GOLDEN_INVALID_VALUE',
      { line: 2, row: 1, field: 'date_mesure' },
    ],
    [
      'impossible time',
      () => parseGoldenCsv(csv(ROW1.replace('2026-02-24', '2026-02-24T25:10:00Z')), 'g.csv'),
      'GOLDEN_INVALID_VALUE',
      { row: 1, field: 'date_mesure' },
    ],
    [
      'bad density_method',
      () => parseGoldenCsv(`${HEADER},density_method\n${ROW1},glass\n`, 'g.csv'),
      'GOLDEN_INVALID_VALUE',
      { row: 1, field: 'density_method' },
    ],
    [
      'bad reception_id',
      () => parseGoldenCsv(`${HEADER},reception_id\n${ROW1},42\n`, 'g.csv'),
      'GOLDEN_INVALID_VALUE',
      { row: 1, field: 'reception_id' },
    ],
    ['short row', () => parseGoldenCsv(csv('SEP-01,GASOIL'), 'g.csv'), 'GOLDEN_FIELD_COUNT', { line: 2, row: 1 }],
    [
      'JSON: missing field',
      () => parseGoldenJson(JSON.stringify([{ reference: 'A' }]), 'g.json'),
      'GOLDEN_MISSING_COLUMN',
      { row: 1, field: 'produit_code' },
    ],
    [
      'JSON: unknown field',
      () => parseGoldenJson(JSON.stringify([{ ...parseGoldenCsv(csv(ROW1), 'x').cases[0]!.case, operator: 'x' }]), 'g.json'),
      'GOLDEN_UNKNOWN_COLUMN',
      { row: 1, field: 'operator' },
    ],
    [
      'JSON: number as text',
      () => parseGoldenJson(JSON.stringify([{ ...parseGoldenCsv(csv(ROW1), 'x').cases[0]!.case, temperature_c: '22,4' }]), 'g.json'),
      'GOLDEN_NOT_A_NUMBER',
      { row: 1, field: 'temperature_c' },
    ],
    ['JSON: empty array', () => parseGoldenJson('[]', 'g.json'), 'GOLDEN_EMPTY', {}],
    ['JSON: not JSON', () => parseGoldenJson('{ cases: ', 'g.json'), 'GOLDEN_BAD_JSON', {}],
  ];
  for (const [name, fn, code, where] of cases) {
    it(name, () => {
      const e = fails(fn);
      expect(e.code).toBe(code);
      expect(e.where?.file).toMatch(/^g\.(csv|json)$/);
      if (where.line !== undefined) expect(e.where?.line).toBe(where.line);
      if (where.row !== undefined) expect(e.where?.row).toBe(where.row);
      if (where.field !== undefined) expect(e.where?.field).toBe(where.field);
      // the one-line message names the place
      expect(e.describe()).toContain('g.');
    });
  }

  it('suggests the kg/m³ value of a density typed in g/cm³', () => {
    expect(fails(() => parseGoldenCsv(csv(ROW1.replace('837.0', '0.8370')), 'g.csv')).message).toContain('837 kg/m³');
  });
});
