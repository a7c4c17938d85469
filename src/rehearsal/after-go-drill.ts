import path from 'node:path';
import type { AgeIdentities } from '../crypto/age.js';
import type { Db } from '../db/types.js';
import { buildBundle, type BundleResult } from '../evidence/bundle.js';
import type { Logger } from '../logger.js';
import { GO_CONDITIONS } from '../results/go-conditions.js';
import type { Decision } from '../results/decision.js';
import { BACKUP_DIR } from '../results/files.js';
import { writeResult } from '../results/io.js';
import type { LateRollback } from '../results/late-rollback.js';
import type { RunContext } from '../results/run-context.js';
import { freezeOff } from '../runbook/freeze.js';
import { stockLines } from '../runbook/late-rollback/index.js';
import { legacy15c } from '../runbook/late-rollback/replay.js';
import { rollback } from '../runbook/rollback.js';
import { watch } from '../runbook/watch/index.js';
import { enterAfterGo } from './after-go.js';
import type { DrillName } from './drills.js';

/**
 * The after-GO drills (runbook 6.1 "réclamation terrain dans les 24h", 6.2): once the remedied run
 * is GO and released, the depot works a day on the migrated app (a reception, a sortie validated
 * through validate_sortie, a gauge adjustment, each as its app user), a field complaint comes in, the
 * watch says NO-GO, and the late rollback restores the verified dump: with replay
 * (complaint-after-go) every movement is entered again on the legacy computation and the stock is
 * what the legacy app shows for them; without (late-rollback-no-replay) every movement is exported
 * and listed. Their records go to `<out>/after-go/` and its own bundle; the GO bundle stays as the
 * GO left it.
 */
type Step = (name: string, runbook: string, fn: (log: Logger) => Promise<{ ok: boolean; summary: string }>) => Promise<boolean>;

export const AFTER_GO_DIR = 'after-go';

/** What the drill must show after the late rollback, as problems (none: it holds). */
async function proveLateRollback(db: Db, late: LateRollback, replay: boolean): Promise<string[]> {
  const problems: string[] = [];
  const c = late.counts;
  const entered = late.movements.filter((m) => m.plan !== 'skip-migration-restatement');
  if (entered.length < 3)
    problems.push(`only ${entered.length} movement(s) since the backup besides the restatements; the drill entered 3`);
  if (!replay) {
    if (c.remaining !== entered.length) problems.push(`${c.remaining} listed to re-enter, ${entered.length} entered`);
    if (JSON.stringify(await stockLines(db)) !== JSON.stringify(late.stock.afterRestore))
      problems.push('the stock is not the restored backup’s');
    return problems;
  }
  if (late.replay?.stoppedAt) problems.push(`the replay stopped at #${late.replay.stoppedAt.seq}: ${late.replay.stoppedAt.message}`);
  if (c.replayed !== entered.length) problems.push(`${c.replayed} replayed of ${entered.length}`);
  // each reception and sortie again, with the legacy 15 °C value
  for (const r of late.replay?.replayed ?? []) {
    if (r.kind === 'adjustment' || !r.replayedId) continue;
    const table = r.kind === 'reception' ? 'public.receptions' : 'public.sorties_produit';
    const v = (await db.query<{ v: number | null }>(`SELECT volume_corrige_15c AS v FROM ${table} WHERE id = $1`, [r.replayedId])).rows[0]
      ?.v;
    if (v === undefined) problems.push(`${r.kind} ${r.replayedId} (replay of ${r.originalId}) is not there`);
    else if (v !== r.legacy15c) problems.push(`${r.kind} ${r.replayedId}: ${v} L at 15 °C, legacy ${r.legacy15c} L`);
  }
  // the stock the legacy app shows: the restored snapshot moved by the legacy volumes of the receptions and sorties
  const moved = new Map<string, number>();
  for (const m of entered) {
    if (m.kind === 'adjustment') continue;
    const k = `${m.citerne}\u0000${m.proprietaire}`;
    moved.set(k, (moved.get(k) ?? 0) + (m.kind === 'reception' ? 1 : -1) * (legacy15c(m) ?? 0));
  }
  for (const after of late.stock.afterReplay ?? []) {
    const before = late.stock.afterRestore.find((l) => l.citerne === after.citerne && l.proprietaire_type === after.proprietaire_type);
    const expected = (before?.snapshot_15c ?? 0) + (moved.get(`${after.citerne}\u0000${after.proprietaire_type}`) ?? 0);
    if (Math.abs((after.snapshot_15c ?? 0) - expected) > 0.001)
      problems.push(
        `${after.citerne} ${after.proprietaire_type}: snapshot ${after.snapshot_15c} L at 15 °C, the legacy app would show ${expected} L`,
      );
  }
  return problems;
}

export interface AfterGoOutcome {
  decision: Decision;
  bundle: BundleResult | undefined;
  /** every after-GO step did what the drill must show */
  ok: boolean;
}

export async function runAfterGoDrill(
  db: Db,
  o: { drill: DrillName; out: string; results: string; goBundle: string; decision: Decision; run: RunContext; identity?: AgeIdentities },
  step: Step,
): Promise<AfterGoOutcome> {
  const dir = path.join(o.out, AFTER_GO_DIR);
  const replay = o.drill === 'complaint-after-go';
  let reasons: Decision['reasons'] = [];
  const oks: boolean[] = [];
  oks.push(
    await step('entries after the GO', '6.1', async () => {
      const ids = await enterAfterGo(db, 'astm');
      return { ok: true, summary: `reception ${ids.reception}, sortie ${ids.sortie}, adjustment ${ids.adjustment}, each as its app user` };
    }),
  );
  oks.push(
    await step('watch', '6.1, 6.3', async (l) => {
      const w = await watch(
        db,
        {
          goBundle: o.goBundle,
          outDir: path.join(dir, 'watch'),
          run: o.run,
          close: true,
          complaints: [
            {
              source: 'input',
              who: 'chef de quai (drill)',
              what: `drill ${o.drill}: the client disputes the 15 °C volume of today's sortie`,
              when: new Date().toISOString(),
              issue: null,
            },
          ],
        },
        l,
      );
      reasons = w.reasons.map((r) => ({
        condition: 'FIELD_COMPLAINT' as const,
        runbook: r.runbook,
        rule: GO_CONDITIONS.FIELD_COMPLAINT.text,
        source: 'watch.json',
        message: r.message,
      }));
      return { ok: w.decision === 'NO-GO', summary: `${w.decision}: ${w.reasons.map((r) => r.condition).join('; ')}` };
    }),
  );
  oks.push(
    await step('late rollback', '6.2', async (l) => {
      const r = await rollback(
        db,
        { backupDir: path.join(o.results, BACKUP_DIR), run: o.run, identity: o.identity, resultsDir: dir, replay },
        l,
      );
      await writeResult(dir, 'rollback', r);
      const late = r.lateRollback;
      if (!r.ok || !late) return { ok: false, summary: r.failures.join('; ') || 'no late-rollback record' };
      const problems = await proveLateRollback(db, late, replay);
      const c = late.counts;
      return {
        ok: problems.length === 0,
        summary: problems.length
          ? problems.join('; ')
          : `${c.sinceBackup} movement(s) since the backup (${c.skipped} restatement(s) of the migration), ${c.replayed} replayed on the legacy computation, ${c.remaining} to enter by hand`,
      };
    }),
  );
  oks.push(
    await step('freeze-off', '6.2', async (l) => {
      const r = await freezeOff(
        db,
        { reason: 'rehearsal over (in PROD: after the legacy build is redeployed and the depot informed)', run: o.run },
        l,
      );
      return { ok: !r.frozen, summary: 'entries allowed again (rehearsal)' };
    }),
  );
  let bundle: BundleResult | undefined;
  oks.push(
    await step('evidence after the GO', '5.7, 6.3', async (l) => {
      bundle = await buildBundle(
        { resultsDir: dir, out: path.join(o.out, 'astm53b-evidence-after-go.zip'), run: { runId: o.run.runId, actor: o.run.actor } },
        l,
      );
      return { ok: true, summary: `${bundle.out}: watch.json, rollback.json and the late-rollback export` };
    }),
  );
  // the drill's outcome is the watch's: NO-GO under 6.1, though the GO itself (decision.json of the GO bundle) stands recorded
  return {
    decision: { ...o.decision, decision: reasons.length ? 'NO-GO' : o.decision.decision, reasons: [...o.decision.reasons, ...reasons] },
    bundle,
    ok: oks.every(Boolean),
  };
}
