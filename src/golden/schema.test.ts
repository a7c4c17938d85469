import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { goldenJsonSchema } from './schema.js';

/** golden/golden-cases.schema.json is generated from the zod schema; UPDATE_GOLDEN=1 rewrites it. */
const FILE = 'golden/golden-cases.schema.json';

describe('golden-case JSON Schema', () => {
  it('the committed file is what the zod schema generates', () => {
    const text = `${JSON.stringify(goldenJsonSchema(), null, 2)}\n`;
    if (process.env.UPDATE_GOLDEN) writeFileSync(FILE, text);
    expect(readFileSync(FILE, 'utf8')).toBe(text);
  });

  it('describes every column of ML_PP public.astm_golden_cases_15c, and refuses others', () => {
    const s = goldenJsonSchema() as {
      anyOf: { items?: { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean } }[];
    };
    const item = s.anyOf[0]!.items!;
    for (const c of [
      'reference',
      'produit_code',
      'date_mesure',
      'volume_observe_l',
      'temperature_c',
      'densite_observee_kgm3',
      'densite_a_15_kgm3_ref',
      'vcf_ref',
      'volume_15c_ref_l',
      'source',
      'note',
    ]) {
      expect(item.required).toContain(c);
    }
    expect(Object.keys(item.properties)).toEqual(expect.arrayContaining(['reception_id', 'density_method']));
    expect(item.required).not.toContain('reception_id');
    expect(item.additionalProperties).toBe(false);
  });
});
