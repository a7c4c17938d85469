import { z } from 'zod';
import { ServerInfo } from './common.js';

/** compat.json: what the pipeline relies on in the target, and what is missing or different. */
export const COMPAT_STATUSES = ['ok', 'missing', 'different'] as const;
export type CompatStatus = (typeof COMPAT_STATUSES)[number];
export const COMPAT_KINDS = ['server', 'role', 'schema', 'table', 'column', 'rls', 'unique', 'function', 'trigger'] as const;
export type CompatKind = (typeof COMPAT_KINDS)[number];

export const CompatItem = z.strictObject({
  kind: z.enum(COMPAT_KINDS),
  name: z.string(),
  status: z.enum(COMPAT_STATUSES),
  /** a missing optional object is reported, not counted against the target */
  optional: z.boolean().optional(),
  expected: z.string().optional(),
  found: z.string().optional(),
});
export type CompatItem = z.infer<typeof CompatItem>;

export const CompatResult = z.strictObject({
  target: z.string(),
  server: ServerInfo,
  compatible: z.boolean(),
  /** over the required objects; optional ones absent are counted apart */
  counts: z.strictObject({ ok: z.number(), missing: z.number(), different: z.number() }),
  optionalMissing: z.number(),
  items: z.array(CompatItem),
  /** facts worth knowing that are not requirements */
  notes: z.array(z.string()),
});
export type CompatResult = z.infer<typeof CompatResult>;
