import { table53b } from '../../astm/index.js';
import type { AppIdentity } from '../../db/types.js';
import type { Logger } from '../../logger.js';
import type { Balance, SmokeFinding } from '../../results/smoke.js';
import type { Context } from './context.js';
import { delta, fmtBalance, r3, readTankFigures, sameBalance } from './figures.js';
import { attempt, bal, check, finding, otherOwners, type Seen } from './findings.js';
import { SMOKE_MARK, SMOKE_MOVEMENTS, SMOKE_OWNER } from './movements.js';
import type { SmokeOptions } from './options.js';
import type { Requests } from './transaction.js';

/** `otherOwnerRow`: what the other owner had on the day before the smoke's movements (other-owner.ts), the first finding. */
export async function sortieCheck(
  req: Requests,
  opts: SmokeOptions,
  ctx: Context,
  who: AppIdentity,
  seen: Seen,
  log: Logger,
  otherOwnerRow: SmokeFinding,
) {
  const m = SMOKE_MOVEMENTS.sortie;
  const amb = m.index_apres - m.index_avant;
  const engine = table53b({
    observedDensity: m.densite_observee_kgm3,
    temperatureC: m.temperature_c,
    hydrometer: opts.profile.hydrometer,
    edition: opts.profile.edition,
    rounding: opts.profile.rounding,
    volumeL: amb,
  });
  const engine15 = engine.volume15L!;
  const own = SMOKE_OWNER;
  const f: SmokeFinding[] = [otherOwnerRow];
  const title =
    'Sortie contrôlée: brouillon validé par validate_sortie; débit stock_15c du bon propriétaire; validee; SORTIE_VALIDEE; DB-STRICT';
  const draft = await attempt(() =>
    req.as(who, async (tx) => {
      const r = await tx.query<{ id: string }>(
        `INSERT INTO public.sorties_produit (citerne_id, produit_id, client_id, index_avant, index_apres, temperature_ambiante_c, densite_a_15, volume_corrige_15c, proprietaire_type, statut, date_sortie, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'MONALUXE', 'brouillon', ($9::date + time '12:00')::timestamptz, $10) RETURNING id::text`,
        [
          ctx.tank.id,
          ctx.tank.produitId,
          ctx.clientId,
          m.index_avant,
          m.index_apres,
          m.temperature_c,
          engine.density15,
          engine15,
          ctx.day,
          `${SMOKE_MARK}: pipeline test sortie, run ${opts.run.runId}`,
        ],
      );
      return r.rows[0]!.id;
    }),
  );
  if (!draft.ok) {
    seen('5.4 draft sortie', draft.error);
    f.push(
      finding(
        'DRAFT_INSERTED',
        false,
        draft.error.code === 'P0001' || draft.error.code === '42501' ? 'P0001_OR_RLS' : 'SMOKE_FAILED',
        `the draft sortie was refused: ${draft.error.code} ${draft.error.message}`,
      ),
    );
    return { check: check('5.4', title, '5.4', f), sortie: undefined, after: undefined };
  }
  const id = draft.value;
  const before = await req.as(who, (q) => readTankFigures(q, ctx.tank.id, ctx.tank.produitId, ctx.day));
  const rpc = await attempt(() => req.as(who, (tx) => tx.query('SELECT public.validate_sortie($1)', [id])));
  const row = (
    await req.as(who, (q) =>
      q.query<{ statut: string | null; validated_by: string | null; volume_ambiant: number | null; v15: number | null }>(
        `SELECT statut, validated_by::text, volume_ambiant, ${ctx.sortieHasVolume15c ? 'coalesce(volume_15c, volume_corrige_15c)' : 'volume_corrige_15c'} AS v15 FROM public.sorties_produit WHERE id = $1`,
        [id],
      ),
    )
  ).rows[0];
  const sortie = {
    id,
    ...m,
    volume_ambiant: row?.volume_ambiant ?? null,
    engine_15c: r3(engine15),
    volume_15c_debited: row?.v15 ?? null,
    statut: row?.statut ?? null,
    validated_by: row?.validated_by ?? null,
  };
  if (!rpc.ok) {
    seen('5.4 validate_sortie', rpc.error);
    f.push(
      finding(
        'RPC_VALIDATED',
        false,
        rpc.error.code === 'P0001' || rpc.error.code === '42501' ? 'P0001_OR_RLS' : 'SMOKE_FAILED',
        `validate_sortie failed as the ${ctx.user.role}: ${rpc.error.code} ${rpc.error.message}`,
      ),
    );
    log.warn(`smoke: the draft sortie ${id} stays a draft (no stock effect) until the smoke rolls back`);
    return { check: check('5.4', title, '5.4', f), sortie, after: undefined };
  }
  log.info(`smoke: sortie ${id} (${amb} L) validated through validate_sortie`);
  const after = await req.as(who, (q) => readTankFigures(q, ctx.tank.id, ctx.tank.produitId, ctx.day));
  const expected: Balance = { amb: -(row?.volume_ambiant ?? amb), v15: -(row?.v15 ?? amb) };
  const dj = delta(after[own].journal, before[own].journal);
  const ds = delta(after[own].snapshot, before[own].snapshot);
  f.push(
    finding('RPC_VALIDATED', true, null, `validate_sortie succeeded as the ${ctx.user.role}`),
    finding(
      'JOURNAL_DEBIT',
      sameBalance(dj, expected),
      'STOCK_INCOHERENCE',
      `journal ${own} moved by ${fmtBalance(dj)}; expected ${fmtBalance(expected)}`,
      { ...bal('journal_delta', dj), ...bal('expected', expected) },
    ),
    otherOwners(before, after, own, 'validate_sortie'),
    finding(
      'JOURNAL_SNAPSHOT_AGREE',
      sameBalance(dj, ds),
      'STOCK_INCOHERENCE',
      sameBalance(dj, ds)
        ? `journal and snapshot of ${own} moved alike (${fmtBalance(dj)})`
        : `journal and snapshot disagree after the sortie: journal ${own} moved by ${fmtBalance(dj)}, snapshot by ${fmtBalance(ds)} (validate_sortie does not write stocks_snapshot, so v_stock_actuel does not show the sortie)`,
      {
        ...bal('journal_delta', dj),
        ...bal('snapshot_delta', ds),
        ...bal('v_stock_actuel_delta', delta(after[own].actuel, before[own].actuel)),
      },
    ),
    finding(
      'STATUT_VALIDEE',
      row?.statut === 'validee' && row.validated_by === ctx.user.id,
      'SMOKE_FAILED',
      `statut ${row?.statut ?? '?'}, validated_by ${row?.validated_by ?? 'NULL'}`,
    ),
  );
  const logs = await req.as(who, (q) =>
    q.query<{ n: number }>(
      "SELECT count(*)::int8 AS n FROM public.log_actions WHERE action = 'SORTIE_VALIDEE' AND details->>'sortie_id' = $1",
      [id],
    ),
  );
  f.push(
    finding(
      'LOG_SORTIE_VALIDEE',
      logs.rows[0]!.n === 1,
      'SMOKE_FAILED',
      `log_actions has ${logs.rows[0]!.n} SORTIE_VALIDEE row(s) for the sortie`,
    ),
  );
  // DB-STRICT: the guard trigger itself must refuse, so as the pipeline (RLS would merely filter a gerant's UPDATE);
  // in a request of its own, so the flag validate_sortie set in its request cannot make it pass
  for (const [code, sql] of [
    ['IMMUTABLE_UPDATE', "UPDATE public.sorties_produit SET note = note || ' (astm53b probe)' WHERE id = $1"],
    ['IMMUTABLE_DELETE', 'DELETE FROM public.sorties_produit WHERE id = $1'],
  ] as const) {
    const e = await req.probe(undefined, sql, [id]);
    f.push(
      finding(
        code,
        e?.code === 'P0001',
        'SMOKE_FAILED',
        e
          ? `${code === 'IMMUTABLE_UPDATE' ? 'UPDATE' : 'DELETE'} of the validated sortie refused: ${e.code} ${e.message}`
          : `the validated sortie could be ${code === 'IMMUTABLE_UPDATE' ? 'updated' : 'deleted'} (rolled back): DB-STRICT does not hold`,
      ),
    );
  }
  if (ctx.lectureUser) {
    const e = await req.probe({ role: 'authenticated', userId: ctx.lectureUser }, 'SELECT public.validate_sortie($1)', [id]);
    f.push(
      finding(
        'LECTURE_ROLE_FORBIDDEN',
        e !== null && /ROLE_FORBIDDEN/.test(e.message),
        'SMOKE_FAILED',
        e ? `a lecture user calling validate_sortie: ${e.code} ${e.message}` : 'a lecture user could call validate_sortie (rolled back)',
      ),
    );
  } else {
    f.push(
      finding('LECTURE_ROLE_FORBIDDEN', false, 'SMOKE_FAILED', 'not proven: no profils row with role lecture to try validate_sortie with'),
    );
  }
  return {
    check: check('5.4', title, '5.4', f),
    sortie: { ...sortie, statut: row?.statut ?? null },
    after,
  };
}
