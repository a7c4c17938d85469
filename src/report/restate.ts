import type { RestatedReception, RestateResult } from '../results/restate.js';
import { maxOf } from '../lists.js';

/**
 * Renderers of `restate` (pure; golden-file tested): what was booked per reception, what
 * v_stock_actuel moved per tank and owner against the adjustments, and why anything was not
 * booked.
 */

const l1 = (x: number) => x.toFixed(1);
const l3 = (x: number) => x.toFixed(3);
const signed = (x: number) => (Math.abs(x) < 0.0005 ? '0.000' : `${x > 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`);
const opt = (x: number | null, f: (x: number) => string = l1) => (x === null ? '–' : f(x));
const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

const HEADLINE: Record<RestateResult['status'], string> = {
  restated: 'RESTATED',
  'dry-run': 'DRY RUN, rolled back',
  'nothing-to-restate': 'NOTHING TO RESTATE',
  rejected: 'PROOF FAILED, rolled back',
};

const ACTION: Record<RestatedReception['action'], string> = {
  booked: 'booked',
  already_restated: 'already restated',
  no_drift: 'no drift',
  not_recomputed: 'not recomputed',
};

function bookedLabel(r: RestateResult, x: RestatedReception): string {
  if (x.action !== 'booked') return ACTION[x.action];
  return r.committed ? 'booked' : r.status === 'dry-run' ? 'would book' : 'not booked';
}

/** This run's row, or the earlier run's; a row of a rolled-back transaction is not in the database. */
function adjustmentOf(r: RestateResult, x: RestatedReception): string | null {
  if (x.action === 'booked') return r.committed ? x.adjustment_id : '(rolled back)';
  return x.earlier[0]?.adjustment_id ?? null;
}

function who(r: RestateResult): string {
  return r.user ? `${r.user.id} (${r.user.email ?? 'no email'}, role ${r.user.role}; ${r.user.chosen_by})` : '–';
}

// ---------------------------------------------------------------------------------------------
// text (CLI)

export function renderRestateText(r: RestateResult): string {
  const out: string[] = [];
  out.push(`restate → ${r.target}: ${HEADLINE[r.status]} · run ${r.run.runId} by ${r.run.actor}`);
  out.push(`  ${r.message}`);
  out.push(
    `  profile ${r.profile} (${r.profile_source}) · threshold ±${r.threshold_l} L · freeze ${r.frozen ? 'on' : 'OFF'} · as ${who(r)}`,
  );
  out.push('');
  out.push(
    ...table(
      ['reception', 'date', 'tank', 'owner', 'stored L', 'column', 'ASTM L', 'delta L', 'action', 'adjustment'],
      r.receptions.map((x) => [
        x.reception_id,
        x.date_reception ?? '–',
        x.citerne,
        x.proprietaire_type,
        opt(x.stored_15c_l, l3),
        x.stored_column ?? '–',
        opt(x.astm_15c_l),
        opt(x.delta_15c_l, signed),
        bookedLabel(r, x),
        adjustmentOf(r, x) ?? '–',
      ]),
      [false, false, false, false, true, false, true, true, false, false],
    ),
  );
  const notBooked = r.receptions.filter((x) => x.action !== 'booked');
  if (notBooked.length) {
    out.push('', 'Not booked:');
    for (const x of notBooked) out.push(`  ${x.reception_id} (${x.citerne}): ${x.why}`);
  }
  if (r.totals.length) {
    out.push('', 'v_stock_actuel at 15 °C per tank and owner (read in the transaction, before the first insert and after the last):');
    out.push(
      ...table(
        ['tank', 'owner', 'adjustments', 'delta L', 'before L', 'after L', 'moved L', 'proof'],
        r.totals.map((t) => [
          t.citerne,
          t.proprietaire_type,
          String(t.adjustments),
          signed(t.delta_15c_l),
          opt(t.before_15c_l, l3),
          opt(t.after_15c_l, l3),
          opt(t.moved_15c_l, signed),
          t.holds ? 'holds' : 'FAILS',
        ]),
        [false, false, true, true, true, true, true, false],
      ).map((l) => `  ${l}`),
    );
    out.push(
      `  total: adjustments ${signed(r.proof.expected_15c_l)} L, v_stock_actuel moved ${signed(r.proof.moved_15c_l)} L (within ${r.proof.tolerance_l} L per tank and owner)`,
    );
  }
  if (r.proof.writes.length)
    out.push(`  rows written: ${r.proof.writes.map((w) => `${w.table} +${w.inserted}/~${w.updated}/−${w.deleted}`).join(', ')}`);
  for (const p of r.proof.problems) out.push(`problem: ${p}`);
  return `${out.join('\n')}\n`;
}

function table(head: string[], rows: string[][], right: boolean[]): string[] {
  const w = head.map((h, i) =>
    maxOf(
      rows.map((x) => x[i]!.length),
      h.length,
    ),
  );
  const line = (x: string[]) =>
    x
      .map((v, i) => (right[i] ? v.padStart(w[i]!) : v.padEnd(w[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

// ---------------------------------------------------------------------------------------------
// markdown (job summary)

export function renderRestateMarkdown(r: RestateResult): string {
  const icon = r.status === 'rejected' ? '❌' : r.status === 'restated' ? '✅' : 'ℹ️';
  const out: string[] = [];
  out.push(`## Restatement of stored receptions (runbook §2, 3.2): ${icon} ${HEADLINE[r.status]}`, '');
  out.push(`${cell(r.message)}.`, '');
  out.push(
    `Each reception whose stored 15 °C volume differs from ASTM 53B of its own inputs (profile \`${r.profile}\`, ${cell(r.profile_source)}) ` +
      `by more than ±${r.threshold_l} L gets one \`stocks_adjustments\` row (\`RECEPTION\`, delta_15c = ASTM − stored, delta_ambiant 0), ` +
      `booked ${r.user ? `as app user ${cell(who(r))}` : 'as an app admin (none was needed: nothing to book)'} through RLS and the table's triggers; receptions, journal and snapshot are not touched. ` +
      `Freeze ${r.frozen ? 'on (passed with the pipeline token)' : '**off**'} · run \`${r.run.runId}\` by ${cell(r.run.actor)}.`,
    '',
  );
  out.push(
    '| reception | date | tank | owner | stored (L) | ASTM 53B (L) | delta (L) | action | adjustment |',
    '|---|---|---|---|---:|---:|---:|---|---|',
  );
  for (const x of r.receptions) {
    const adj = adjustmentOf(r, x);
    out.push(
      `| \`${x.reception_id}\` | ${x.date_reception ?? '–'} | ${cell(x.citerne)} | ${x.proprietaire_type} | ${opt(x.stored_15c_l, l3)}${x.stored_column ? ` (\`${x.stored_column}\`)` : ''} | ${opt(x.astm_15c_l)} | ${opt(x.delta_15c_l, signed)} | ${bookedLabel(r, x)} | ${adj === null ? '–' : adj.startsWith('(') ? adj : `\`${adj}\``} |`,
    );
  }
  out.push('');
  const notBooked = r.receptions.filter((x) => x.action !== 'booked');
  if (notBooked.length) {
    out.push('<details><summary>Not booked, and why</summary>', '');
    for (const x of notBooked) out.push(`- \`${x.reception_id}\` (${cell(x.citerne)}): ${cell(x.why)}`);
    out.push('', '</details>', '');
  }
  if (r.totals.length) {
    out.push('### Proof before COMMIT: `v_stock_actuel` per tank and owner', '');
    out.push(
      '| tank | owner | adjustments | Σ delta (L) | before (L) | after (L) | moved (L) | |',
      '|---|---|---:|---:|---:|---:|---:|---|',
      ...r.totals.map(
        (t) =>
          `| ${cell(t.citerne)} | ${t.proprietaire_type} | ${t.adjustments} | ${signed(t.delta_15c_l)} | ${opt(t.before_15c_l, l3)} | ${opt(t.after_15c_l, l3)} | ${opt(t.moved_15c_l, signed)} | ${t.holds ? '✅' : '❌'} |`,
      ),
      `| **total** | | ${r.counts.booked} | **${signed(r.proof.expected_15c_l)}** | | | **${signed(r.proof.moved_15c_l)}** | ${r.proof.holds ? '✅' : '❌'} |`,
      '',
    );
    if (r.proof.writes.length)
      out.push(
        `Rows written in the transaction: ${r.proof.writes.map((w) => `\`${w.table}\` ${w.inserted} inserted, ${w.updated} updated, ${w.deleted} deleted`).join('; ')}.`,
        '',
      );
  }
  if (r.proof.problems.length) {
    out.push('**Problems**', '');
    for (const p of r.proof.problems) out.push(`- ${cell(p)}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
