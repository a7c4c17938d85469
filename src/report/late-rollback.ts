import type { LateRollback, Movement, StockLine } from '../results/late-rollback.js';

/**
 * The late rollback in plain words (runbook 6.1 complaint within 24 h, 6.2): how many movements
 * were made since the backup, how many were replayed, how many remain to enter by hand (per tank
 * and day, with their figures), and the stock per tank and owner at the three moments.
 */
const n = (x: number | null, dp = 1) => (x === null ? '—' : x.toFixed(dp));

function movementLine(m: Movement): string {
  const f = m.figures;
  const what =
    m.kind === 'adjustment'
      ? `adjustment of ${m.mouvement?.type ?? '?'} ${m.mouvement?.id ?? '?'}: ${n(f.delta_ambiant)} L amb, ${n(f.delta_15c)} L 15 °C (${m.reason ?? ''})`
      : `${m.kind} ${m.proprietaire ?? ''} ${m.statut ?? ''}: index ${n(f.index_avant)} → ${n(f.index_apres)}, ${n(f.volume_ambiant)} L amb, ${n(f.temperature_c)} °C, ρ ${n(f.densite_a_15)}, stored 15 °C ${n(f.volume_15c ?? f.volume_corrige_15c)} L`;
  return `#${m.seq} ${m.at} ${what} (id ${m.id}, by ${m.enteredBy ?? 'unknown'})`;
}

function stockLines(title: string, lines: readonly StockLine[] | null): string[] {
  if (!lines) return [];
  return [
    `  stock ${title}:`,
    ...lines.map(
      (s) =>
        `    ${s.citerne.padEnd(14)} ${s.produit.padEnd(8)} ${s.proprietaire_type.padEnd(10)} snapshot ${n(s.snapshot_ambiant)} L amb / ${n(s.snapshot_15c)} L 15 °C; journal ${s.journal_date ?? '—'} ${n(s.journal_ambiant)} / ${n(s.journal_15c)}`,
    ),
  ];
}

export function renderLateRollbackText(l: LateRollback): string[] {
  const c = l.counts;
  const bySeq = new Map(l.movements.map((m) => [m.seq, m]));
  const replay = l.replay;
  const out = [
    `late rollback: ${c.sinceBackup} movement(s) since the backup; ${c.replayed} replayed; ${c.skipped} restatement(s) of the migration not re-entered; ${c.remaining} left to enter by hand`,
    `  export     ${l.files.length ? l.files.map((f) => `${f.path} (${f.rows} rows, SHA-256 ${f.sha256.slice(0, 12)}…)`).join(', ') : '(not written: no results folder)'}${l.encryption ? `, encrypted to ${l.encryption.recipients.length} recipient(s)` : ''}`,
  ];
  if (replay) {
    for (const r of replay.replayed)
      out.push(
        `  replayed   #${r.seq} ${r.kind} ${r.originalId} → ${r.replayedId ?? '(skipped: the migration’s own restatement)'}${r.legacy15c !== null ? `, 15 °C ${n(r.original15c)} → legacy ${n(r.legacy15c)} L` : ''}${r.as.length ? ` as ${r.as.join(', ')}` : ''}`,
      );
    if (replay.stoppedAt)
      out.push(
        `  ✗ replay stopped at #${replay.stoppedAt.seq} (${replay.stoppedAt.kind} ${replay.stoppedAt.id}): ${replay.stoppedAt.code ?? ''} ${replay.stoppedAt.message}`,
      );
  }
  if (l.toReenter.length) {
    out.push('  to enter by hand, per tank and day:');
    for (const g of l.toReenter) {
      out.push(`    ${g.citerne ?? '(tank unknown)'} ${g.day ?? '(no day)'}:`);
      for (const s of g.movements) out.push(`      ${movementLine(bySeq.get(s)!)}`);
    }
  }
  out.push(...stockLines('before the late rollback', l.stock.beforeRollback));
  out.push(...stockLines('after the restore', l.stock.afterRestore));
  out.push(...stockLines('after the replay', l.stock.afterReplay));
  return out;
}
