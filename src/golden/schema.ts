import { z } from 'zod';
import { LIMITS_1980 } from '../astm/index.js';
import { isRealDateTime } from '../dates.js';

/**
 * One golden case: a real reception measured in the field and SEP's result for it. The columns
 * are those of ML_PP's own table `public.astm_golden_cases_15c` (FACTS §1.3), so the depot can
 * export that table as is; `reception_id` and `density_method` are ours and optional.
 *
 * This zod schema is the only definition: the CSV and JSON loaders, the database reader and the
 * committed JSON Schema (`golden/golden-cases.schema.json`, for editors) all derive from it.
 */

/** ML_PP ids are md5-derived, not RFC 4122: a plain 8-4-4-4-12 hex pattern, never z.uuid(). */
const ID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** ISO date, or date and time as a timestamptz export writes it */
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** The widest temperature domain of the 1980 tables (the edition every candidate profile must compute). */
export const GOLDEN_TEMPERATURE = {
  min: LIMITS_1980.temperatureMin,
  max: Math.max(...LIMITS_1980.temperatureMaxByDensity.map((b) => b.max)),
} as const;

const density = (what: string) =>
  z
    .number()
    .min(2, { message: `${what} must be in kg/m³ (a value below 2 is kg/L or g/cm³)` })
    .describe(`${what}, kg/m³ (e.g. 837.5, not 0.8375)`);

export const DENSITY_METHODS = ['hydrometer', 'digital'] as const;

export const GoldenCaseSchema = z
  .object({
    reference: z.string().trim().min(1).describe('unique reference of the case (SEP ticket or reception number)'),
    produit_code: z.string().trim().min(1).describe("product code as in ML_PP ('GASOIL', 'G.O')"),
    date_mesure: z
      .string()
      .regex(DATE_PATTERN, { message: 'must be a date YYYY-MM-DD (or an ISO date and time)' })
      .refine(isRealDateTime, { message: 'is not a day of the calendar (month 01-12, day within the month)' })
      .describe('date of the measurement, YYYY-MM-DD'),
    volume_observe_l: z.number().positive({ message: 'must be a positive volume in litres' }).describe('ambient (observed) volume, litres'),
    temperature_c: z
      .number()
      .min(GOLDEN_TEMPERATURE.min, { message: `is below ${GOLDEN_TEMPERATURE.min} °C, the lower limit of the tables` })
      .max(GOLDEN_TEMPERATURE.max, { message: `is above ${GOLDEN_TEMPERATURE.max} °C, the upper limit of the tables` })
      .describe('temperature of the product, °C'),
    densite_observee_kgm3: density('density read at the observed temperature'),
    densite_a_15_kgm3_ref: density("SEP's density at 15 °C")
      .nullable()
      .describe("SEP's density at 15 °C, kg/m³ (empty when SEP's slip does not show it)"),
    vcf_ref: z.number().gt(0.5).lt(1.5).nullable().describe("SEP's volume correction factor (empty when SEP's slip does not show it)"),
    volume_15c_ref_l: z
      .number()
      .positive({ message: 'must be a positive volume in litres' })
      .describe("SEP's volume at 15 °C, litres: the reference"),
    source: z
      .string()
      .trim()
      .min(1)
      .describe("where the figures come from: 'SEP_API_OFFICIEL' for field values, 'DEMO_COMPUTED' for the demo"),
    note: z.string().nullable().describe('free text'),
    reception_id: z
      .string()
      .regex(ID_PATTERN, { message: 'must be an ML_PP id (8-4-4-4-12 hex)' })
      .nullable()
      .optional()
      .describe('id of the ML_PP reception this case belongs to'),
    density_method: z
      .enum(DENSITY_METHODS)
      .nullable()
      .optional()
      .describe("how the density was read: 'hydrometer' (glass) or 'digital' (density meter)"),
    // present in an export of ML_PP's table; carried along, never used
    id: z.string().nullable().optional().describe("ML_PP's row id (ignored)"),
    created_at: z.string().nullable().optional().describe("ML_PP's insertion time (ignored)"),
  })
  .strict();

export type GoldenCase = z.infer<typeof GoldenCaseSchema>;

/** Columns that must be present in a CSV header (an empty cell is allowed where the schema says nullable). */
export const REQUIRED_COLUMNS = [
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
] as const satisfies readonly (keyof GoldenCase)[];

export const OPTIONAL_COLUMNS = ['reception_id', 'density_method', 'id', 'created_at'] as const satisfies readonly (keyof GoldenCase)[];

export const NUMERIC_COLUMNS = new Set<string>([
  'volume_observe_l',
  'temperature_c',
  'densite_observee_kgm3',
  'densite_a_15_kgm3_ref',
  'vcf_ref',
  'volume_15c_ref_l',
]);

/** A golden file in JSON: an array of cases, or an object whose `cases` holds them (room for `$schema`). */
export const GoldenFileSchema = z.union([
  z.array(GoldenCaseSchema).min(1),
  z.object({ $schema: z.string().optional(), cases: z.array(GoldenCaseSchema).min(1) }).strict(),
]);

/** The JSON Schema committed as golden/golden-cases.schema.json (a test checks regeneration changes nothing). */
export function goldenJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(GoldenFileSchema, { io: 'input' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'ASTM 53B golden cases (columns of ML_PP public.astm_golden_cases_15c)',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}
