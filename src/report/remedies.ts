import type { EvidenceFacts, GoldenDeviation, ReasonFacts } from '../results/evidence.js';

/**
 * What the depot can do about each reason of a NO-GO (pure): the remedy the pipeline offers,
 * chosen from the reason's runbook condition and what the results say of its cause (the golden
 * case's diagnosis, the change file that was applied).
 */
export const CORRECTED_CHANGE_FILE = 'sql/docs/DB_CHANGES/2026-12-04_validate_sortie_p0_1.sql';
/** ML_PP's own P0, the runbook's change file: its validate_sortie is what the corrected one fixes */
export const MLPP_P0_CHANGE_FILE = '2026-02-25_staging_validate_sortie_p0.sql';

const RESTATE =
  'restate the receptions stored with the legacy formula: `astm53b restate` (the PROD workflow input `restate: true`) books one stocks_adjustments row per reception; then run again';
const SEP_SLIP = (ref: string) =>
  `re-read the SEP slip of ${ref} (ambient volume, temperature, observed density, 15 °C volume), correct the golden file where it was mistyped, then run again`;

function goldenCaseOf(r: ReasonFacts, facts: Pick<EvidenceFacts, 'golden'>): GoldenDeviation | undefined {
  return facts.golden?.cases.find((c) => r.message.startsWith(`case ${c.reference}:`));
}

function goldenRemedy(r: ReasonFacts, facts: Pick<EvidenceFacts, 'golden'>): string {
  const c = goldenCaseOf(r, facts);
  if (!c) return 'read golden.json: the verification did not pass; re-read the SEP slips of the cases, then run again';
  switch (c.fault) {
    case 'mlpp':
      return /already includes a restatement/.test(r.message)
        ? `ML_PP's value was already restated and still differs: compare the reception's inputs in ML_PP with the SEP slip of ${c.reference}`
        : RESTATE;
    case 'sep':
    case 'data_entry':
      return SEP_SLIP(c.reference);
    case 'profile':
      return `SEP's figure fits another ASTM edition or rounding than the one verified: check the profile golden.json found, and ${SEP_SLIP(c.reference)}`;
    default:
      return `${SEP_SLIP(c.reference)}; if the slip is right, compare it with the reception in ML_PP`;
  }
}

/** Our corrected change file fixes what ML_PP's P0 validate_sortie does to the stock (runbook 6.1 incoherences). */
function changeRemedy(facts: Pick<EvidenceFacts, 'applied'>, otherwise: string): string {
  const applied = facts.applied?.file;
  if (applied === MLPP_P0_CHANGE_FILE || applied?.endsWith(`/${MLPP_P0_CHANGE_FILE}`))
    return `apply the corrected change file ${CORRECTED_CHANGE_FILE} instead of ${applied} (P0.1: debits the sortie's owner only, journal and snapshot, refuses an overdraft), validated on STAGING first; then run again`;
  return otherwise;
}

export function remedyOf(r: ReasonFacts, facts: Pick<EvidenceFacts, 'golden' | 'applied'>): string {
  switch (r.condition) {
    case 'GOLDEN_DEVIATION':
      return goldenRemedy(r, facts);
    case 'STOCK_INCOHERENCE':
    case 'SMOKE_FAILED':
      return changeRemedy(facts, 'the finding names the tank, owner and figure: find the cause on STAGING, fix it, then run again');
    case 'P0001_OR_RLS':
      return 'the finding names the statement and the error: check the policies and grants the change touched on STAGING, then run again';
    case 'NO_VERIFIED_BACKUP':
      return 'nothing was changed without a verified dump: take the backup again and let its restore test pass (disk space, a pg_dump of the server’s major version)';
    case 'CHANGE_NOT_APPLIED':
      return changeRemedy(
        facts,
        `read sql-apply.json's violations, correct the change file (${CORRECTED_CHANGE_FILE} is the pipeline's corrected one) and validate it on STAGING; then run again`,
      );
    case 'DRIFT':
      return 'preflight names what differs from the validated STAGING: reconcile it, or validate the change again on a STAGING restored from PROD';
    case 'NO_SIGNOFF':
      return "the depot manager reads the smoke and golden results and approves or rejects this run's GO gate (a rehearsal takes --signoff FILE)";
    case 'SIGNOFF_NO_GO':
      return "address the depot manager's comment, then run again";
    case 'RESULT_MISSING':
      return 'the step stopped before writing its result: read its .error.txt in the results folder, fix the cause, then run again';
    default:
      return 'read the finding, fix its cause, then run again';
  }
}
