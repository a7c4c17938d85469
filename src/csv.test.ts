import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CsvParser,
  detectDelimiter,
  formatCsvRecord,
  formatDecimal,
  neutraliseFormula,
  openCsvFile,
  parseCsv,
  parseDecimal,
  type CsvRecord,
} from './csv.js';
import { expectUserErrorSync as userError } from './testing/command.js';

describe('delimiter detection', () => {
  it('takes whichever of , and ; the header uses more, outside quotes', () => {
    expect(detectDelimiter('table,edition,rounding')).toBe(',');
    expect(detectDelimiter('table;edition;rounding')).toBe(';');
    expect(detectDelimiter('"a;b;c",d')).toBe(',');
    expect(detectDelimiter('"a,b,c";d')).toBe(';');
    expect(detectDelimiter('single')).toBe(',');
  });
});

describe('parseCsv (RFC 4180)', () => {
  it('unquotes fields holding the delimiter, doubled quotes and line breaks, and counts lines', () => {
    const text = 'a,b,c\r\n1,"x, y","say ""hi"""\r\n2,"two\nlines",z\r\n3,,\r\n';
    const p = parseCsv(text);
    expect(p.header).toEqual(['a', 'b', 'c']);
    expect(p.records.map((r) => r.fields)).toEqual([
      ['1', 'x, y', 'say "hi"'],
      ['2', 'two\nlines', 'z'],
      ['3', '', ''],
    ]);
    expect(p.records.map((r) => [r.row, r.line])).toEqual([
      [1, 2],
      [2, 3],
      [3, 5],
    ]);
  });

  it('skips blank lines but keeps a record made of one quoted empty field', () => {
    const p = parseCsv('a\n1\n\n""\n\n');
    expect(p.records.map((r) => r.fields)).toEqual([['1'], ['']]);
    expect(p.records[1]!.line).toBe(4);
  });

  it('reads a French export: BOM, ; and decimal commas', () => {
    const p = parseCsv('\uFEFFtable;density_kgm3\n54B;837,5\n');
    expect(p.dialect).toEqual({ delimiter: ';', bom: true, decimalComma: true });
    expect(p.header).toEqual(['table', 'density_kgm3']);
    expect(p.records[0]!.fields).toEqual(['54B', '837,5']);
  });

  it('flags text after a closing quote on that record only', () => {
    const p = parseCsv('a,b\n"x"y,1\n2,3\n');
    expect(p.records[0]!.error).toMatch(/after a closing quote/);
    expect(p.records[0]!.fields).toEqual(['xy', '1']);
    expect(p.records[1]!.error).toBeUndefined();
  });

  it('reports an unterminated quote with the line it opened on', () => {
    const e = userError(() => parseCsv('a,b\n1,2\n3,"never closed\n4,5\n', 'in.csv'));
    expect(e.code).toBe('CSV_UNTERMINATED_QUOTE');
    expect(e.where).toMatchObject({ file: 'in.csv', line: 3 });
  });

  it('refuses an empty file and a duplicated column', () => {
    expect(userError(() => parseCsv('', 'e.csv')).code).toBe('CSV_EMPTY');
    const e = userError(() => parseCsv('a,b,A\n', 'd.csv'));
    expect(e.code).toBe('CSV_DUPLICATE_COLUMN');
    expect(e.message).toContain('"A"');
  });
});

describe('streaming', () => {
  // every chunk boundary must be invisible: inside "", between \r and \n, in the BOM's wake
  const text = '\uFEFFh1;h2;h3\r\n"a""b";"c;d";e\r\n"multi\r\nline";;"x"\r\n\r\nlast;1,5;"q"';
  const whole = parseCsv(text).records.map((r) => [r.line, r.fields, r.error]);

  for (const size of [1, 2, 3, 7]) {
    it(`gives the same records fed ${size} character(s) at a time`, () => {
      const p = new CsvParser();
      const got: CsvRecord[] = [];
      let row = 0;
      for (let i = 0; i < text.length; i += size) for (const r of p.push(text.slice(i, i + size))) got.push({ ...r, row: row++ });
      for (const r of p.end()) got.push({ ...r, row: row++ });
      expect(p.dialect).toEqual({ delimiter: ';', bom: true, decimalComma: true });
      expect(got.slice(1).map((r) => [r.line, r.fields, r.error])).toEqual(whole);
    });
  }
});

describe('writing', () => {
  it('quotes only what needs it and reads back what it wrote', () => {
    const fields = ['plain', 'with,comma', 'with;semicolon', 'say "hi"', 'two\nlines', 'cr\rhere', ''];
    for (const d of [',', ';'] as const) {
      const line = formatCsvRecord(fields, d);
      expect(line.startsWith('plain')).toBe(true);
      const back = parseCsv(`${fields.map((_, i) => `c${i}`).join(d)}\n${line}\n`);
      expect(back.records[0]!.fields).toEqual(fields);
    }
    expect(formatCsvRecord(['a;b', 'c,d'], ',')).toBe('a;b,"c,d"');
  });

  it('defuses copied cells that a spreadsheet would run as a formula (OWASP CSV injection)', () => {
    expect(neutraliseFormula(`=cmd|' /C calc'!A0`, false)).toBe(`'=cmd|' /C calc'!A0`);
    for (const t of ['=1+1', '+33 1', '-', '-2+3+cmd|x', '@SUM(A1)', '\t=1', '\r=1'])
      expect([t, neutraliseFormula(t, false)]).toEqual([t, `'${t}`]);
    // numbers run nothing and stay numbers; so does ordinary text, and a cell prefixed already
    for (const t of ['-5', '+5', '-1e3', '-0.25', '', 'plain', ' =1', "'=1", 'a=b'])
      expect([t, neutraliseFormula(t, false)]).toEqual([t, t]);
    // a decimal comma is a number only where the file uses them
    expect(neutraliseFormula('-3,5', true)).toBe('-3,5');
    expect(neutraliseFormula('-3,5', false)).toBe("'-3,5");
    // the quoted form reads back as the prefixed text
    const line = formatCsvRecord([neutraliseFormula('=HYPERLINK("http://x","y")', false)], ',');
    expect(line).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
  });
});

describe('decimal numbers in cells', () => {
  it('reads dots everywhere and commas only in the ; dialect', () => {
    expect(parseDecimal('837.5', false)).toBe(837.5);
    expect(parseDecimal(' 837.5 ', false)).toBe(837.5);
    expect(parseDecimal('837,5', true)).toBe(837.5);
    expect(parseDecimal('837.5', true)).toBe(837.5);
    expect(parseDecimal('-3,5', true)).toBe(-3.5);
    expect(parseDecimal('.5', false)).toBe(0.5);
    expect(parseDecimal('1e3', false)).toBe(1000);
    expect(parseDecimal('837,5', false)).toBeUndefined();
  });

  it('refuses anything it could half-read', () => {
    for (const t of ['', 'abc', '12abc', '1 234', '1.234,5', '1,234,5', '--1', '0x10', 'Infinity', 'NaN']) {
      expect(parseDecimal(t, true), t).toBeUndefined();
    }
  });

  it('writes the shortest exact text, with a comma when asked', () => {
    expect(formatDecimal(843.4, true)).toBe('843,4');
    expect(formatDecimal(0.9872962229575258, false)).toBe('0.9872962229575258');
    expect(formatDecimal(39492, true)).toBe('39492');
  });
});

describe('openCsvFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'csv-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('streams the records of a file after its header', async () => {
    const path = join(dir, 'fr.csv');
    const body = Array.from({ length: 5000 }, (_, i) => `${i};"v;${i}"`).join('\r\n');
    writeFileSync(path, `\uFEFFn;v\r\n${body}\r\n`);
    const f = await openCsvFile(path, 'fr.csv');
    expect(f.header).toEqual(['n', 'v']);
    expect(f.dialect.delimiter).toBe(';');
    let count = 0;
    for await (const r of f.records) {
      expect(r.fields).toEqual([String(count), `v;${count}`]);
      expect(r.row).toBe(count + 1);
      expect(r.line).toBe(count + 2);
      count++;
    }
    expect(count).toBe(5000);
  });

  it('names the missing file', async () => {
    await expect(openCsvFile(join(dir, 'nope.csv'), 'nope.csv')).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
      where: { file: 'nope.csv' },
    });
  });

  it('names the empty file', async () => {
    const path = join(dir, 'empty.csv');
    writeFileSync(path, '\uFEFF');
    await expect(openCsvFile(path, 'empty.csv')).rejects.toMatchObject({ code: 'CSV_EMPTY' });
  });
});
