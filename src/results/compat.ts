import { z } from 'zod';
import { ServerInfo } from './common.js';

/** compat.json: what the pipeline relies on in the target, and what is missing or different. */
export const COMPAT_STATUSES = ['ok', 'missing', 'different'] as const;
export type CompatStatus = (typeof COMPAT_STATUSES)[number];
/** 'rls' is kept so compat.json files written before RLS became a security finding still read */
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

/** What ML_PP protects elsewhere and this target leaves open; the pipeline does not rely on it. */
export const SECURITY_KINDS = ['rls'] as const;
export const SecurityFinding = z.strictObject({
  kind: z.enum(SECURITY_KINDS),
  /** schema.table */
  name: z.string(),
  finding: z.string(),
});
export type SecurityFinding = z.infer<typeof SecurityFinding>;

export const CompatResult = z.strictObject({
  target: z.string(),
  server: ServerInfo,
  compatible: z.boolean(),
  /** over the required objects; optional ones absent are counted apart */
  counts: z.strictObject({ ok: z.number(), missing: z.number(), different: z.number() }),
  optionalMissing: z.number(),
  items: z.array(CompatItem),
  /**
   * Security findings: a table ML_PP protects with row level security that has it off here
   * (STAGING's stocks_snapshot). No step relies on RLS to work, so a finding never makes the
   * target incompatible; compat and preflight show it as a warning for the depot to fix.
   */
  security: z.array(SecurityFinding),
  /** facts worth knowing that are not requirements */
  notes: z.array(z.string()),
});
export type CompatResult = z.infer<typeof CompatResult>;
