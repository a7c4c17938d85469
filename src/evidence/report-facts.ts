import type { Decision } from '../results/decision.js';
import type { BackupFacts, RestateFacts, SignoffFacts, SmokeFacts, SmokeFigureRow, TimelineEvent } from '../results/evidence.js';
import type { FreezeResult } from '../results/freeze.js';
import type { GoldenReport } from '../results/golden.js';
import type { PreflightResult } from '../results/preflight.js';
import type { RestateResult } from '../results/restate.js';
import type { RollbackResult } from '../results/rollback.js';
import { OWNERS, type Balance, type SmokeResult, type TankFigures } from '../results/smoke.js';
import type { ApplyResult } from '../results/sql-apply.js';

/**
 * What the report says beyond the bundle's manifest, read from the results the steps wrote: the
 * sign-off as recorded, the timeline of the freeze window, the smoke's figures and the
 * restatement per reception. Pure: the files were read and checked against their schemas by
 * readEvidenceFacts.
 */

type Json = Record<string, unknown>;

/** What the record says, in its own order and with its own field names; format is the file's version, not a fact. */
function fieldsOf(o: Json): SignoffFacts['fields'] {
  return Object.entries(o)
    .filter(([k, v]) => k !== 'format' && v !== null && v !== undefined && v !== '')
    .map(([field, v]) => ({ field, value: typeof v === 'string' ? v : JSON.stringify(v) }));
}

/**
 * The sign-off: signoff.json as written (any field it has, the optional ones when present: a
 * gate's review read back from GitHub carries more than a record given by hand), else the copy
 * decide kept in decision.json.
 */
export function signoffFacts(raw: [string, Json] | undefined, decision: Decision | undefined): SignoffFacts | null {
  if (raw) return { file: raw[0], fields: fieldsOf(raw[1]) };
  if (decision?.signoff) return { file: 'decision.json (signoff)', fields: fieldsOf(decision.signoff as Json) };
  return null;
}

/** A timestamptz as PostgreSQL prints it (`2026-03-11 19:30:00.5+00`) or ISO, as ISO; null when it is neither. */
export function isoOf(t: string | null | undefined): string | null {
  if (!t) return null;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

export interface TimelineInputs {
  preflight?: PreflightResult | undefined;
  freezeOn?: FreezeResult | undefined;
  freezeOff?: FreezeResult | undefined;
  backup: BackupFacts | null;
  apply?: ApplyResult | undefined;
  restate?: RestateResult | undefined;
  golden?: GoldenReport | undefined;
  smoke?: SmokeResult | undefined;
  signoff: SignoffFacts | null;
  decision?: Decision | undefined;
  rollback?: RollbackResult | undefined;
}

const span = (from: string | null, to: string | null): number | null => {
  const a = isoOf(from);
  const b = isoOf(to);
  return a && b ? Date.parse(b) - Date.parse(a) : null;
};

/** Every moment the results record, in time order; a step whose file holds no time is left out rather than guessed. */
export function timelineOf(r: TimelineInputs): TimelineEvent[] {
  const ev: (TimelineEvent | null)[] = [];
  const push = (step: string, runbook: string, at: string | null | undefined, ms: number | null, outcome: string) => {
    const iso = isoOf(at);
    ev.push(iso ? { step, runbook, at: iso, ms, outcome } : null);
  };
  if (r.preflight) push('preflight', '3.3, 4.1', r.preflight.at, null, r.preflight.passed ? 'passed' : 'FAILED');
  if (r.freezeOn)
    push('freeze on', '3.4, 4.1', r.freezeOn.at ?? r.freezeOn.since, null, `${r.freezeOn.guardedTables.length} tables refuse entries`);
  if (r.backup) {
    push('backup (pg_dump)', '3.1, 4.2', r.backup.finishedAt, span(r.backup.takenAt, r.backup.finishedAt), `${r.backup.bytes} bytes`);
    push(
      'backup restore test',
      '3.1, 4.2',
      r.backup.verifiedAt,
      span(r.backup.finishedAt, r.backup.verifiedAt),
      r.backup.verified ? 'verified' : 'NOT verified',
    );
  }
  if (r.apply) push('change applied', '4.3', r.apply.at, r.apply.ms, `${r.apply.file.name}: ${r.apply.status}`);
  if (r.restate) push('restatement', '§2, 3.2', r.restate.at, r.restate.ms, `${r.restate.status}, ${r.restate.counts.booked} booked`);
  if (r.golden)
    push(
      'golden cases',
      '3.2, 5.6',
      r.golden.at,
      null,
      `${r.golden.cases.filter((c) => c.verdict === 'PASS').length}/${r.golden.cases.length} within ±${r.golden.tolerance_l} L`,
    );
  if (r.smoke) push('smoke', '4.5, 5.1–5.5', r.smoke.at, null, r.smoke.passed ? 'PASS' : 'FAIL');
  const so = r.signoff ? Object.fromEntries(r.signoff.fields.map((f) => [f.field, f.value])) : null;
  if (so) push('sign-off (GO gate)', '5.6', so.at, null, `${so.decision ?? '?'} by ${so.who ?? '?'}`);
  if (r.decision) push('decision', '6.1, 7', r.decision.at, null, r.decision.decision);
  if (r.rollback)
    push('rollback', '6.2', r.rollback.at, r.rollback.ms.total, r.rollback.ok ? 'restored and proven equal to the dump' : 'FAILED');
  if (r.freezeOff)
    push('freeze off (release)', '3.4', r.freezeOff.at, null, r.freezeOff.frozen ? 'still frozen' : 'entries accepted again');
  return ev.filter((e): e is TimelineEvent => e !== null).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

const FIGURES = [
  ['journal', 'journal'],
  ['snapshot', 'snapshot'],
  ['v_stock_actuel', 'actuel'],
] as const;

export function smokeFacts(file: string, s: SmokeResult): SmokeFacts {
  const pick = (
    t: TankFigures | null | undefined,
    owner: (typeof OWNERS)[number],
    key: 'journal' | 'snapshot' | 'actuel',
  ): Balance | null => (t ? t[owner][key] : null);
  const figures: SmokeFigureRow[] = [];
  if (s.figures) {
    for (const owner of OWNERS)
      for (const [figure, key] of FIGURES)
        figures.push({
          owner,
          figure,
          before: pick(s.figures.before, owner, key),
          afterReception: pick(s.figures.afterReception, owner, key),
          afterSortie: pick(s.figures.afterSortie, owner, key),
          afterRollback: pick(s.rollback.afterRollback, owner, key),
        });
  }
  return {
    file,
    passed: s.passed,
    at: s.at,
    tank: s.tank?.nom ?? null,
    day: s.day,
    checks: s.checks.map((c) => ({
      id: c.id,
      title: c.title,
      ran: c.ran,
      passed: c.passed,
      message: c.message,
      failed: c.findings.filter((f) => !f.passed).map((f) => `${f.code}: ${f.message}`),
    })),
    figures,
    unchanged: s.rollback.unchanged,
  };
}

export function restateFacts(file: string, r: RestateResult): RestateFacts {
  return {
    file,
    status: r.status,
    committed: r.committed,
    message: r.message,
    receptions: r.receptions.map((x) => ({
      reception: x.reception_id,
      date: x.date_reception,
      tank: x.citerne,
      owner: x.proprietaire_type,
      stored_l: x.stored_15c_l,
      astm_l: x.astm_15c_l,
      delta_l: x.delta_15c_l,
      action: x.action,
    })),
  };
}
