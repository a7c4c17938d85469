import { readTableKeys, tablesChecksums } from '../db/checksum.js';
import { APP_SCHEMAS, PIPELINE_PREFIX } from '../db/fingerprint.js';
import type { Queryable } from '../db/types.js';
import type { RestateOptions } from '../runbook/restate.js';
import { ML_PP_PROFILE } from '../golden/profile.js';
import { STEP_TIMEOUT_DEFAULTS } from '../runbook/timeouts.js';

/** What the restate tests on both engines compare: every application table, and the stock the app shows. */

export const restateOptions = (runId: string, extra: Partial<RestateOptions> = {}): RestateOptions => ({
  profile: ML_PP_PROFILE,
  profileSource: 'test',
  dryRun: false,
  ...STEP_TIMEOUT_DEFAULTS,
  run: { runId, actor: 'vitest' },
  ...extra,
});

/** rows:checksum of every table of the application schemas (the pipeline's own astm53b_* left out), by name. */
export async function appChecksums(q: Queryable): Promise<Record<string, string>> {
  const keys = await readTableKeys(q, APP_SCHEMAS, PIPELINE_PREFIX);
  return Object.fromEntries((await tablesChecksums(q, keys)).map((t) => [t.table, `${t.rows}:${t.checksum}`]));
}

/** v_stock_actuel at 15 °C and ambient, by "tank name/owner" (the demo has one product and one depot). */
export async function stockByTankOwner(q: Queryable): Promise<Map<string, { v15: number; amb: number }>> {
  const r = await q.query<{ k: string; v15: number; amb: number }>(
    `SELECT c.nom || '/' || v.proprietaire_type AS k, v.stock_15c AS v15, v.stock_ambiant AS amb
       FROM public.v_stock_actuel v JOIN public.citernes c ON c.id = v.citerne_id`,
  );
  return new Map(r.rows.map((x) => [x.k, { v15: x.v15, amb: x.amb }]));
}

/** Σ delta per "tank name/owner" of the receptions a restatement booked. */
export function deltasByTankOwner(
  receptions: readonly { citerne: string; proprietaire_type: string; action: string; delta_15c_l: number | null }[],
) {
  const out = new Map<string, number>();
  for (const r of receptions.filter((x) => x.action === 'booked')) {
    const k = `${r.citerne}/${r.proprietaire_type}`;
    out.set(k, (out.get(k) ?? 0) + r.delta_15c_l!);
  }
  return out;
}
