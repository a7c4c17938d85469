import { describe, expect, it } from 'vitest';
import { asRowError, computeRow, RowError, type CellNumbers, type InputColumn } from './batch.js';
import { table53b } from './table53b.js';
import { table54b } from './table54b.js';

// the file's number format is the caller's (src/csv.ts in the batch); plain ones suffice here
const DOT: CellNumbers = { parse: (t) => (/^[+-]?\d+(\.\d+)?$/.test(t) ? Number(t) : undefined), format: String };
const COMMA: CellNumbers = { parse: (t) => DOT.parse(t.replace(',', '.')), format: (n) => String(n).replace('.', ',') };

const HEADER = ['table', 'edition', 'rounding', 'density_kgm3', 'temperature_c', 'hydrometer', 'volume_l'] as const;

/** One row as the batch file writes it: cells in header order, missing ones absent. */
function row(...cells: string[]) {
  return (c: InputColumn) => {
    const i = (HEADER as readonly string[]).indexOf(c);
    return i < 0 ? undefined : cells[i];
  };
}

/** The row error a row fails with (engine errors mapped to the batch column). */
function rowError(get: (c: InputColumn) => string | undefined, numbers = DOT): RowError {
  try {
    computeRow(get, numbers);
  } catch (e) {
    return asRowError(e);
  }
  throw new Error('expected a row error');
}

describe('computeRow', () => {
  it('computes 54B and 53B rows in the file number format', () => {
    const r54 = table54b({ density15: 840, temperatureC: 30, volumeL: 40000 });
    expect(computeRow(row('54B', '1980', 'table', '840', '30', '', '40000'), DOT)).toEqual({
      vcf: String(r54.vcf),
      density15: '840',
      volume15: String(r54.volume15L),
    });
    // ML_PP: 1000 L read at 840 kg/m³ on a glass hydrometer at 20 °C
    expect(computeRow(row('53B', '1980', 'table', '840', '20', 'true', '1000'), DOT)).toEqual({
      vcf: '0.9958',
      density15: '843.4',
      volume15: '995.8',
    });
    // full precision: the shortest text that reads back as the same double; no volume, no volume cell
    const full = table53b({ observedDensity: 831, temperatureC: 30, hydrometer: false, edition: '2004', rounding: 'full' });
    expect(computeRow(row('53B', '2004', 'full', '831', '30', 'false', ''), DOT)).toEqual({
      vcf: String(full.vcf),
      density15: String(full.density15),
      volume15: '',
    });
  });

  it('takes the table name and boolean words in any case, and absent optional columns as empty', () => {
    const c = table54b({ density15: 840, temperatureC: 30, edition: '2004', rounding: 'computed', volumeL: 40000 });
    expect(computeRow(row('54b', '2004', 'computed', '840', '30', 'FALSE', '40000'), DOT)).toMatchObject({
      vcf: String(c.vcf),
      volume15: String(c.volume15L),
    });
    expect(computeRow(row('54B', '1980', 'table', '840', '30'), DOT).vcf).toBe(String(table54b({ density15: 840, temperatureC: 30 }).vcf));
  });

  it('reads and writes decimal commas when the file does', () => {
    const r = table53b({ observedDensity: 835.5, temperatureC: 28.35, hydrometer: true, volumeL: 39291.5 });
    expect(computeRow(row('53B', '1980', 'table', '835,5', '28,35', 'VRAI', '39291,5'), COMMA)).toEqual({
      vcf: String(r.vcf).replace('.', ','),
      density15: String(r.density15).replace('.', ','),
      volume15: String(r.volume15L).replace('.', ','),
    });
  });

  it('says what is wrong with a row and in which column', () => {
    expect(rowError(row('54B', '1980', 'table', '84O', '30'))).toMatchObject({
      code: 'INVALID_NUMBER',
      field: 'density_kgm3',
      message: '"84O" is not a number',
    });
    const unit = rowError(row('54B', '1980', 'table', '0.8375', '30'));
    expect(unit).toMatchObject({ code: 'DENSITY_UNIT_SUSPECT', field: 'density_kgm3' });
    expect(unit.message).toContain('837.5 kg/m³');
    const hot = rowError(row('54B', '1980', 'table', '840', '130'));
    expect(hot).toMatchObject({ code: 'TEMPERATURE_OUT_OF_RANGE', field: 'temperature_c' });
    expect(hot.message).toContain('limit 120 °C');
    expect(rowError(row('55B', '1980', 'table', '840', '30'))).toMatchObject({ code: 'INVALID_TABLE', field: 'table' });
    // ρ15 is never a hydrometer reading
    expect(rowError(row('54B', '1980', 'table', '840', '30', 'true'))).toMatchObject({ code: 'INVALID_BOOLEAN', field: 'hydrometer' });
    expect(rowError(row('53B', '1980', 'table', '840', '30', 'maybe'))).toMatchObject({ code: 'INVALID_BOOLEAN', field: 'hydrometer' });
    // blank edition/rounding are refused, not defaulted
    expect(rowError(row('54B', '', 'table', '840', '30'))).toMatchObject({ code: 'MISSING_VALUE', field: 'edition' });
    expect(rowError(row('54B', '1980', ' ', '840', '30'))).toMatchObject({ code: 'MISSING_VALUE', field: 'rounding' });
    expect(rowError(row('54B', '1980', 'table', '840', ''))).toMatchObject({ code: 'MISSING_VALUE', field: 'temperature_c' });
    expect(rowError(row('54B', '1999', 'table', '840', '30'))).toMatchObject({ code: 'UNKNOWN_EDITION', field: 'edition' });
    expect(rowError(row('54B', '1980', 'table', '840', '30', '', '-1'))).toMatchObject({ code: 'INVALID_VOLUME', field: 'volume_l' });
    // a decimal comma is not a number in a file that does not use them
    expect(rowError(row('54B', '1980', 'table', '840', '30,5'))).toMatchObject({ code: 'INVALID_NUMBER', field: 'temperature_c' });
  });

  it('lets anything that is not a row error through as the bug it is', () => {
    const bug = new TypeError('boom');
    expect(() => asRowError(bug)).toThrow(bug);
    expect(() =>
      computeRow(() => {
        throw bug;
      }, DOT),
    ).toThrow(bug);
  });
});
