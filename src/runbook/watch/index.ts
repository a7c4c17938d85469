import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { PublicKey, SigningKey } from '../../crypto/signing.js';
import type { Db } from '../../db/types.js';
import { buildBundle } from '../../evidence/bundle.js';
import { ML_PP_PROFILE, profileName, type GoldenProfile } from '../../golden/profile.js';
import type { Logger } from '../../logger.js';
import { GO_CONDITIONS } from '../../results/go-conditions.js';
import { writeResult } from '../../results/io.js';
import type { RunContext } from '../../results/run-context.js';
import type { Complaint, WatchResult } from '../../results/watch.js';
import { WATCH_FORMAT } from '../../results/watch.js';
import { coherenceCheck, complaintsCheck, functionCheck, movementsSinceGo } from './checks.js';
import { readGoBundle } from '../go-bundle.js';
import { complaintsFromIssues, reportIncident, type GitHubRepo } from './github-issues.js';

/**
 * The 24 hours after a GO (runbook 6.1 "réclamation terrain dans les 24h", 6.3). One pass: the GO
 * bundle verified and read, then read-only checks of the live database in one read-only
 * transaction, the field complaints, and the verdict: any failing finding or complaint is a NO-GO
 * under 6.1 with its reason, reported as (or added to) the incident issue. The watch never rolls
 * back: a person decides, through the rollback workflow's environment gate. The closing pass (the
 * window is over, or `close`) also writes watch.json into a small signed addendum bundle whose
 * watch.json names the GO bundle's SHA-256.
 */
export const WATCH_ADDENDUM = 'astm53b-watch-addendum.zip';
export const DEFAULT_WINDOW_HOURS = 24;
export const DEFAULT_COMPLAINT_LABEL = 'astm53b-reclamation';
export const DEFAULT_INCIDENT_LABEL = 'astm53b-incident';

export interface WatchOptions {
  goBundle: string;
  /** the depot's signing.pub: the GO bundle's signature must hold */
  publicKey?: PublicKey;
  windowHours?: number;
  profile?: GoldenProfile;
  toleranceL?: number;
  /** complaints given by hand (who, what, when) */
  complaints?: Complaint[];
  github?: GitHubRepo & { complaintLabel?: string; incidentLabel?: string };
  /** the results folder: watch.json, and the addendum at the closing pass */
  outDir: string;
  /** make this pass the closing one even before the window is over */
  close?: boolean;
  signingKey?: SigningKey;
  run: RunContext;
  now?: Date;
  env?: NodeJS.ProcessEnv;
}

function incidentBody(r: WatchResult): string {
  return [
    `**astm53b watch: NO-GO under runbook 6.1** (pass of ${r.at}, GO of run ${r.go.goRunId} decided ${r.go.decidedAt}, window until ${r.window.endsAt}).`,
    '',
    ...r.reasons.map((x) => `- ${x.runbook} ${x.condition}: ${x.message}`),
    '',
    'The watch does not roll back by itself. The depot manager decides: a late rollback (`astm53b rollback --backup DIR --out DIR [--replay]`, or the rollback workflow behind its environment gate) restores the verified dump and exports every movement entered since, so nothing is lost.',
    `Evidence: watch.json of run ${r.run.runId}; GO bundle SHA-256 ${r.go.bundleSha256}.`,
  ].join('\n');
}

export async function watch(db: Db, opts: WatchOptions, log: Logger): Promise<WatchResult> {
  const now = opts.now ?? new Date();
  const hours = opts.windowHours ?? DEFAULT_WINDOW_HOURS;
  const profile = opts.profile ?? ML_PP_PROFILE;
  const toleranceL = opts.toleranceL ?? 5;
  const go = await readGoBundle(opts.goBundle, opts.publicKey);
  const endsAt = new Date(Date.parse(go.decidedAt) + hours * 3_600_000);
  const over = now.getTime() >= endsAt.getTime();
  log.info(
    `watch: GO of run ${go.runId} decided ${go.decidedAt}; window of ${hours} h ${over ? 'is over' : `until ${endsAt.toISOString()}`}`,
  );

  const db_ = await db.withTransaction(
    async (q) => ({
      coherence: await coherenceCheck(q),
      moved: await movementsSinceGo(q, go.decidedAt, profile, toleranceL),
      fn: await functionCheck(q, go),
    }),
    { readOnly: true },
  );
  const complaints = [...(opts.complaints ?? [])];
  if (opts.github)
    complaints.push(...(await complaintsFromIssues(opts.github, opts.github.complaintLabel ?? DEFAULT_COMPLAINT_LABEL, go.decidedAt)));
  const checks = [db_.coherence, db_.moved.check, db_.fn, complaintsCheck(complaints)];
  const reasons = checks
    .flatMap((c) => c.findings)
    .filter((f) => !f.passed && f.condition)
    .map((f) => ({ runbook: GO_CONDITIONS[f.condition!].runbook, condition: GO_CONDITIONS[f.condition!].text, message: f.message }));
  const result: WatchResult = {
    format: WATCH_FORMAT,
    at: now.toISOString(),
    target: db.label,
    run: opts.run,
    go: {
      bundle: path.basename(go.bundle),
      bundleSha256: go.sha256,
      signatureValid: go.signatureValid,
      decidedAt: go.decidedAt,
      goRunId: go.runId,
      appliedValidateSortie: go.validateSortie.map((f) => f.value).join('\n') || null,
    },
    window: { hours, endsAt: endsAt.toISOString(), over, closing: over || (opts.close ?? false) },
    profile: profileName(profile),
    toleranceL,
    movements: db_.moved.movements,
    complaints,
    checks,
    decision: reasons.length ? 'NO-GO' : 'GO-HOLDS',
    reasons,
    incident: null,
    addendum: null,
  };
  for (const r of reasons) log.warn(`watch: NO-GO (runbook ${r.runbook} ${r.condition}): ${r.message}`);
  if (result.decision === 'NO-GO' && opts.github) {
    result.incident = await reportIncident(opts.github, {
      label: opts.github.incidentLabel ?? DEFAULT_INCIDENT_LABEL,
      title: `ASTM53B incident after the GO of run ${go.runId}`,
      body: incidentBody(result),
    });
    log.warn(`watch: incident issue #${result.incident.number} ${result.incident.action}`);
  } else if (result.decision === 'NO-GO') {
    result.incident = { action: 'none', number: null, url: null };
  }
  if (result.window.closing) {
    // the addendum holds this watch.json (its addendum field null: a bundle cannot name its own hash)
    const src = path.join(opts.outDir, 'addendum');
    await rm(src, { recursive: true, force: true });
    await mkdir(src, { recursive: true });
    await writeResult(src, 'watch', result);
    const b = await buildBundle(
      {
        resultsDir: src,
        out: path.join(opts.outDir, WATCH_ADDENDUM),
        ...(opts.signingKey ? { signingKey: opts.signingKey } : {}),
        run: { runId: opts.run.runId, actor: opts.run.actor },
        changelog: { title: `ASTM53B watch after the GO of run ${go.runId}: ${result.decision}` },
        now,
        ...(opts.env ? { env: opts.env } : {}),
      },
      log,
    );
    result.addendum = { path: WATCH_ADDENDUM, sha256: b.sha256, signed: Boolean(opts.signingKey) };
    log.info(
      `watch: closing pass; addendum ${WATCH_ADDENDUM} (SHA-256 ${b.sha256.slice(0, 12)}…) tied to the GO bundle ${go.sha256.slice(0, 12)}…`,
    );
  }
  await writeResult(opts.outDir, 'watch', result);
  return result;
}
