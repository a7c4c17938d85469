import { table53b } from '../../astm/index.js';
import type { AppIdentity } from '../../db/types.js';
import type { Logger } from '../../logger.js';
import type { SmokeFinding, SmokeResult, TankFigures } from '../../results/smoke.js';
import type { Context } from './context.js';
import { fmtBalance, r3, readTankFigures } from './figures.js';
import { attempt, bal, finding, type Seen } from './findings.js';
import { OTHER_OWNER, SMOKE_MARK, SMOKE_MOVEMENTS } from './movements.js';
import type { SmokeOptions } from './options.js';
import { insertReception } from './reception.js';
import type { Requests } from './transaction.js';

export interface OtherOwnerSetup {
  /** 5.4's OTHER_OWNER_ROW_ON_DAY: what the other owner had on the day, and what the smoke added */
  finding: SmokeFinding;
  reception?: NonNullable<SmokeResult['movements']['otherOwnerReception']>;
  /** the tank's figures after the smoke's reception for the other owner, when it made one */
  after?: TankFigures;
}

/**
 * OTHER_OWNERS_UNTOUCHED (5.3, 5.4) only tests something when another owner has a journal row for
 * the tank and day holding more than the sortie: ML_PP's P0 debits every row of that tank and day and
 * clamps at 0, so a missing or empty row hides the defect. When the data has no such row, the smoke
 * makes one the way the app does, with a PARTENAIRE reception (stock_upsert_journalier starts the
 * day's row from that owner's previous balance), inside its rolled-back transaction; the partner is
 * the first partenaires row, or a test partner the pipeline creates like the test truck.
 */
export async function ensureOtherOwnerRow(
  req: Requests,
  opts: SmokeOptions,
  ctx: Context,
  who: AppIdentity,
  seen: Seen,
  log: Logger,
): Promise<OtherOwnerSetup> {
  const need = SMOKE_MOVEMENTS.sortie.index_apres - SMOKE_MOVEMENTS.sortie.index_avant;
  const where = `${ctx.tank.nom} on ${ctx.day}`;
  const existing = (
    await req.as(who, (q) =>
      q.query<{ amb: number; v15: number }>(
        `SELECT stock_ambiant AS amb, stock_15c AS v15 FROM public.stocks_journaliers
          WHERE citerne_id = $1 AND produit_id = $2 AND date_jour = $3::date AND proprietaire_type = $4`,
        [ctx.tank.id, ctx.tank.produitId, ctx.day, OTHER_OWNER],
      ),
    )
  ).rows[0];
  const had = existing ? { amb: Number(existing.amb), v15: Number(existing.v15) } : null;
  if (had && had.amb >= need && had.v15 >= need) {
    return {
      finding: finding(
        'OTHER_OWNER_ROW_ON_DAY',
        true,
        null,
        `${OTHER_OWNER} already has a journal row for ${where} (${fmtBalance(had)}), in the data: validate_sortie must leave it alone`,
        { ...bal('other_owner_journal', had), other_owner_reception_l: 0 },
      ),
    };
  }

  const m = SMOKE_MOVEMENTS.otherOwnerReception;
  const amb = m.index_apres - m.index_avant;
  const engine15 = table53b({
    observedDensity: m.densite_observee_kgm3,
    temperatureC: m.temperature_c,
    hydrometer: opts.profile.hydrometer,
    edition: opts.profile.edition,
    rounding: opts.profile.rounding,
    volumeL: amb,
  }).volume15L!;
  const why = had
    ? `${OTHER_OWNER}'s journal row for ${where} holds ${fmtBalance(had)}, less than the sortie's ${need} L, so a debit of it could hide behind a clamp at 0`
    : `${OTHER_OWNER} had no journal row for ${where}`;
  const r = await attempt(async () => {
    // read and, if need be, created by the pipeline: no app role may insert a partner
    const partner = await req.as(undefined, async (q) => {
      const first = (await q.query<{ id: string }>('SELECT id::text FROM public.partenaires ORDER BY nom, id LIMIT 1')).rows[0];
      if (first) return { id: first.id, created: false };
      const made = await q.query<{ id: string }>('INSERT INTO public.partenaires (nom) VALUES ($1) RETURNING id::text', [
        `${SMOKE_MARK} test partner, run ${opts.run.runId}`.slice(0, 120),
      ]);
      return { id: made.rows[0]!.id, created: true };
    });
    const row = await req.as(who, (tx) =>
      insertReception(
        tx,
        ctx,
        m,
        engine15,
        { owner: OTHER_OWNER, cdrId: null, partenaireId: partner.id },
        `${SMOKE_MARK}: pipeline test reception for ${OTHER_OWNER}, run ${opts.run.runId}`,
      ),
    );
    return { partner, row };
  });
  if (!r.ok) {
    seen(`5.4 setup: ${OTHER_OWNER} reception`, r.error);
    return {
      finding: finding(
        'OTHER_OWNER_ROW_ON_DAY',
        false,
        r.error.code === 'P0001' || r.error.code === '42501' ? 'P0001_OR_RLS' : 'SMOKE_FAILED',
        `${why}; the smoke's ${OTHER_OWNER} reception meant to give it one was refused (${r.error.code} ${r.error.message}): OTHER_OWNERS_UNTOUCHED proves nothing`,
      ),
    };
  }
  const { partner, row } = r.value;
  const after = await req.as(who, (q) => readTankFigures(q, ctx.tank.id, ctx.tank.produitId, ctx.day));
  const now = after[OTHER_OWNER];
  const ok = now.journalDate === ctx.day && now.journal.amb >= need && now.journal.v15 >= need;
  log.info(
    `smoke: ${OTHER_OWNER} reception ${row.id} (${amb} L) on ${ctx.tank.nom} so that the sortie has another owner's row to leave alone`,
  );
  const stored = row.volume_15c ?? row.volume_corrige_15c;
  return {
    finding: finding(
      'OTHER_OWNER_ROW_ON_DAY',
      ok,
      'SMOKE_FAILED',
      `${why}: the smoke received ${amb} L for ${OTHER_OWNER} (partner ${partner.id}${partner.created ? ', a test partner it created' : ''}) through the app's reception path, inside its rolled-back transaction; ${OTHER_OWNER}'s row for ${where} ${ok ? `now holds ${fmtBalance(now.journal)}: validate_sortie must leave it alone` : `is still missing or below the sortie (${fmtBalance(now.journal)}, dated ${now.journalDate ?? 'none'})`}`,
      { ...bal('other_owner_journal', now.journal), other_owner_reception_l: amb },
    ),
    reception: {
      id: row.id,
      owner: OTHER_OWNER,
      partenaire_id: partner.id,
      partner_created: partner.created,
      ...m,
      volume_ambiant: row.volume_ambiant,
      stored_15c: stored === null ? null : r3(stored),
      sent_volume_corrige_15c: r3(engine15),
    },
    after,
  };
}
