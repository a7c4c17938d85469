import { withAppUser } from '../../db/as-user.js';
import type { Db } from '../../db/types.js';
import { OWNERS, type SmokeCheck, type SmokeFinding, type TankFigures } from '../../results/smoke.js';
import type { AsUser, Context } from './context.js';
import { fmtBalance, readTankFigures, sameBalance } from './figures.js';
import { attempt, bal, check, finding, type Seen } from './findings.js';

/** tables anon must not read a row of (5.1) */
const MOVEMENT_TABLES = [
  'receptions',
  'sorties_produit',
  'stocks_journaliers',
  'stocks_snapshot',
  'stocks_adjustments',
  'log_actions',
] as const;

export async function connectionCheck(db: Db, ctx: Context, asUser: AsUser, seen: Seen): Promise<SmokeCheck> {
  const f: SmokeFinding[] = [];
  const ownerCount = (await db.query<{ n: number }>('SELECT count(*)::int8 AS n FROM public.depots')).rows[0]!.n;
  const r = await attempt(() =>
    asUser(async (q) => (await q.query<{ n: number }>('SELECT count(*)::int8 AS n FROM public.depots')).rows[0]!.n),
  );
  if (!r.ok) seen('5.1 read depots', r.error);
  f.push(
    finding(
      'DEPOTS_READ',
      r.ok && r.value > 0 && r.value === ownerCount,
      'P0001_OR_RLS',
      r.ok
        ? `the ${ctx.user.role} reads ${r.value} of the ${ownerCount} depot(s)`
        : `reading depots as the ${ctx.user.role} failed: ${r.error.code} ${r.error.message}`,
      { seen_by_user: r.ok ? r.value : null, in_table: ownerCount },
    ),
  );
  const leaks: string[] = [];
  for (const t of MOVEMENT_TABLES) {
    const a = await attempt(() =>
      withAppUser(
        db,
        { role: 'anon' },
        async (q) => (await q.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM public.${t}`)).rows[0]!.n,
        { readOnly: true },
      ),
    );
    const n = a.ok ? a.value : a.error.code === '42501' ? 0 : -1;
    if (n !== 0) leaks.push(a.ok ? `${t}: ${n} row(s)` : `${t}: ${a.error.code} ${a.error.message}`);
  }
  f.push(
    finding(
      'ANON_READS_NO_MOVEMENT',
      leaks.length === 0,
      'SMOKE_FAILED',
      leaks.length ? `anon reads movement rows: ${leaks.join('; ')}` : `anon reads no row of ${MOVEMENT_TABLES.join(', ')}`,
    ),
  );
  return check('5.1', 'Connexion DB: lecture simple de depots sans erreur RLS; anon ne lit aucun mouvement', '5.1', f);
}

export async function initialStockCheck(
  db: Db,
  ctx: Context,
  asUser: AsUser,
  seen: Seen,
): Promise<{ before: TankFigures; check: SmokeCheck }> {
  const { tank, day } = ctx;
  const before = await db.withTransaction((q) => readTankFigures(q, tank.id, tank.produitId, day), { readOnly: true });
  const r = await attempt(() => asUser((q) => readTankFigures(q, tank.id, tank.produitId, day)));
  if (!r.ok) seen('5.2 read stock', r.error);
  const same =
    r.ok && OWNERS.every((o) => sameBalance(r.value[o].journal, before[o].journal) && sameBalance(r.value[o].snapshot, before[o].snapshot));
  const figures: Record<string, number | string | null> = {};
  for (const o of OWNERS)
    Object.assign(figures, bal(`${o}_journal`, before[o].journal), bal(`${o}_snapshot`, before[o].snapshot), {
      [`${o}_journal_date`]: before[o].journalDate,
    });
  return {
    before,
    check: check('5.2', `Lecture stock initial: stocks_journaliers (par propriétaire) et stocks_snapshot de ${tank.nom}`, '5.2', [
      finding(
        'STOCK_READ',
        same,
        'P0001_OR_RLS',
        r.ok
          ? same
            ? `${tank.nom}: ${OWNERS.map((o) => `${o} journal ${fmtBalance(before[o].journal)}, snapshot ${fmtBalance(before[o].snapshot)}`).join('; ')}`
            : `the ${ctx.user.role} does not see the stock the table holds (RLS hides rows)`
          : `reading stock as the ${ctx.user.role} failed: ${r.error.code} ${r.error.message}`,
        figures,
      ),
    ]),
  };
}
