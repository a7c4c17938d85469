import { z } from 'zod';
import { Sha256 } from './common.js';
import { RunContext } from './run-context.js';
import { SmokeFinding } from './smoke.js';

/**
 * watch.json: one pass of the 24-hour watch after a GO (runbook 6.1 "réclamation terrain dans les
 * 24h", 6.3). Read-only: the 5.5 coherence of the whole database, every reception and sortie
 * entered since the GO against ASTM 53B/54B of its own inputs, validate_sortie against the body the
 * GO applied, and the field complaints. Any failing finding or complaint is a NO-GO under 6.1; the
 * watch never rolls back by itself. The closing pass (at the end of the window) writes it into a
 * small signed addendum bundle tied to the GO bundle's SHA-256.
 */
export const WATCH_FORMAT = 'astm53b-watch/1';
export const WATCH_CHECK_IDS = ['coherence', 'movements', 'function', 'complaints'] as const;

export const Complaint = z.strictObject({
  /** 'issue': an issue of the repository with the complaint label, opened since the GO; 'input': given by hand */
  source: z.enum(['issue', 'input']),
  who: z.string().min(1),
  what: z.string().min(1),
  when: z.string(),
  /** the issue's number and address, when it is one */
  issue: z.strictObject({ number: z.number().int(), url: z.string() }).nullable(),
});
export type Complaint = z.infer<typeof Complaint>;

export const WatchCheck = z.strictObject({
  id: z.enum(WATCH_CHECK_IDS),
  title: z.string(),
  passed: z.boolean(),
  findings: z.array(SmokeFinding),
});
export type WatchCheck = z.infer<typeof WatchCheck>;

export const MovementCheck = z.strictObject({
  kind: z.enum(['reception', 'sortie']),
  id: z.string(),
  /** the reception's date, the sortie's creation time */
  date: z.string(),
  citerne: z.string().nullable(),
  stored_15c_l: z.number().nullable(),
  astm_15c_l: z.number().nullable(),
  deviation_l: z.number().nullable(),
  problem: z.string().nullable(),
});
export type MovementCheck = z.infer<typeof MovementCheck>;

export const WatchResult = z.strictObject({
  format: z.literal(WATCH_FORMAT),
  at: z.string(),
  target: z.string(),
  run: RunContext,
  go: z.strictObject({
    bundle: z.string(),
    bundleSha256: Sha256,
    /** the bundle's signature was checked with the depot's public key (null: no key given) */
    signatureValid: z.boolean().nullable(),
    decidedAt: z.string(),
    goRunId: z.string(),
    /** what sql-apply.json recorded of validate_sortie after the change (the fingerprint's canonical value) */
    appliedValidateSortie: z.string().nullable(),
  }),
  window: z.strictObject({ hours: z.number().positive(), endsAt: z.string(), over: z.boolean(), closing: z.boolean() }),
  profile: z.string(),
  toleranceL: z.number(),
  movements: z.array(MovementCheck),
  complaints: z.array(Complaint),
  checks: z.array(WatchCheck),
  /** GO-HOLDS: nothing found so far; NO-GO: a finding or a complaint (runbook 6.1): a person decides the rollback */
  decision: z.enum(['GO-HOLDS', 'NO-GO']),
  reasons: z.array(z.strictObject({ runbook: z.string(), condition: z.string(), message: z.string() })),
  incident: z
    .strictObject({ action: z.enum(['opened', 'commented', 'none']), number: z.number().int().nullable(), url: z.string().nullable() })
    .nullable(),
  /** the closing pass's addendum bundle */
  addendum: z.strictObject({ path: z.string(), sha256: Sha256, signed: z.boolean() }).nullable(),
});
export type WatchResult = z.infer<typeof WatchResult>;
