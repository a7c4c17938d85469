import { z } from 'zod';

/** signoff.json: the depot manager's written validation (runbook 5.6). */
export const SIGNOFF_FORMAT = 'astm53b-signoff/1';

export const SignOff = z.strictObject({
  format: z.literal(SIGNOFF_FORMAT).optional(),
  who: z.string().trim().min(2, { message: 'must name the person who signs' }),
  role: z.string().trim().min(2, { message: "must give the signer's role (e.g. responsable dépôt)" }),
  decision: z.enum(['GO', 'NO-GO']),
  at: z.iso.datetime({ offset: true, message: 'must be an ISO date and time with its offset, e.g. 2026-03-11T22:40:00+01:00' }),
  comment: z.string().optional(),
  /** the workflow run the record was made in (every record a run makes carries it); absent: given by hand */
  runId: z.string().min(1).optional(),
});
export type SignOff = z.infer<typeof SignOff>;
