import { z } from 'zod';
import { Sha256 } from './common.js';

/**
 * changelog.json: where the CHANGELOG entry of a GO went (runbook 5.7 "Mettre à jour
 * CHANGELOG.md (section [Unreleased] → PROD)"). `opened`: a pull request carrying the entry was
 * opened on the app's repository; `pull-request-exists`: this run's pull request was already
 * there (a re-run); `in-changelog`: the base branch's CHANGELOG already holds this run's entry
 * (the pull request was merged). In each case the change is written, not merely generated.
 */
export const ChangelogResult = z.strictObject({
  status: z.enum(['opened', 'pull-request-exists', 'in-changelog']),
  repository: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'must be owner/name'),
  base: z.string().min(1),
  branch: z.string().min(1),
  file: z.string().min(1),
  /** the heading whose section the entry closes, as given */
  under: z.string().min(1),
  /** the comment that names the entry in the file */
  marker: z.string().min(1),
  entry_sha256: Sha256,
  pull_request: z
    .strictObject({ number: z.number().int().positive(), url: z.string().url(), state: z.string(), merged: z.boolean() })
    .nullable(),
  /** the commit that wrote the entry on the pull request's branch; null when nothing was written by this run */
  commit: z.string().nullable(),
  at: z.iso.datetime({ offset: true }),
});
export type ChangelogResult = z.infer<typeof ChangelogResult>;
