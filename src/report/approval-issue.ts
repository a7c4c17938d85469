import type { Decision } from '../results/decision.js';
import type { GoldenReport } from '../results/golden.js';
import type { PreflightResult } from '../results/preflight.js';
import type { SmokeResult } from '../results/smoke.js';
import type { TriggeredBy } from '../results/approvals.js';
import { renderDecisionMarkdown } from './decision.js';
import { renderGoldenMarkdown } from './golden.js';
import { renderPreflightMarkdown } from './preflight.js';
import { renderSmokeMarkdown } from './smoke.js';

/**
 * The approval issue of actions/approval-gate (pure): what is to be approved, a link to the run,
 * and how to answer it. The GO gate (runbook 5.6) shows the golden and smoke summaries and the
 * decision so far; the start gate (runbook 3.4) shows preflight and what the run was dispatched with.
 */
interface GateView {
  environment: string;
  runId: string;
  runUrl: string;
  triggeredBy: TriggeredBy;
  approvers: readonly string[];
  deadline: string;
  timeoutMinutes: number;
}

export interface GoGateView extends GateView {
  gate: 'go';
  golden: GoldenReport | string;
  smoke: SmokeResult | string;
  decision: Decision | string;
}

export interface StartGateView extends GateView {
  gate: 'start';
  preflight: PreflightResult | string;
  /** the dispatch form's values (github.event.inputs) */
  inputs: Record<string, string>;
}

export type ApprovalIssueView = GoGateView | StartGateView;

/** GitHub refuses an issue body over 65 536 characters. */
export const ISSUE_BODY_MAX = 65_536;

export const approvalIssueTitle = (v: { gate: 'go' | 'start'; environment: string; runUrl: string }): string =>
  v.gate === 'start'
    ? `astm53b: start the migration? run ${v.runUrl.split('/').pop()} (${v.environment}, runbook 3.4)`
    : `astm53b: GO / NO-GO of run ${v.runUrl.split('/').pop()} (${v.environment}, runbook 5.6)`;

const section = (title: string, r: string | { toString(): string }, render: () => string) =>
  typeof r === 'string'
    ? [`### ${title}`, '', `_${r}_`, '']
    : ['<details><summary>' + title + '</summary>', '', render(), '</details>', ''];

/** A table cell's text: one line, no column break. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export function renderApprovalIssue(v: ApprovalIssueView): string {
  const t = v.triggeredBy;
  const start = v.gate === 'start';
  const head = [
    start
      ? `**Go-ahead to start the migration (runbook 3.4: créneau validé, équipe informée)** for [run ${v.runId}](${v.runUrl}), gate \`${v.environment}\`: \`GO\` freezes the depot and takes the backup, then the change runs.`
      : `**Validation écrite responsable dépôt (runbook 5.6)** for [run ${v.runId}](${v.runUrl}), gate \`${v.environment}\`.`,
    '',
    `Run started by @${t.actor}${t.triggeringActor === t.actor ? '' : `, re-run by @${t.triggeringActor}`}: whoever started it cannot approve it.`,
    '',
    `**To answer, ${v.approvers.map((a) => `@${a}`).join(' or ')}:** comment \`GO\` or \`NO-GO\` as the first word, then your comment ` +
      `(e.g. \`${start ? 'GO créneau validé, équipe informée' : 'GO chiffres SEP conformes'}\`). The first such comment by a listed approver decides; it is recorded with its author, time and text, and this issue is closed.`,
    '',
    start
      ? `Without an answer by **${v.deadline}** (${v.timeoutMinutes} min) the migration does not start: nothing is frozen or changed.`
      : `Without an answer by **${v.deadline}** (${v.timeoutMinutes} min) there is no sign-off and the run decides NO-GO (rollback).`,
    '',
    '---',
    '',
  ];
  const shown = start
    ? [
        '### Dispatched with',
        '',
        '| input | value |',
        '| --- | --- |',
        ...Object.entries(v.inputs).map(([k, x]) => `| ${cell(k)} | ${x === '' ? '_(empty)_' : `\`${cell(x)}\``} |`),
        '',
        ...section('Preflight (runbook 3.1–3.4)', v.preflight, () => renderPreflightMarkdown(v.preflight as PreflightResult)),
      ]
    : [
        ...(typeof v.decision === 'string' ? ['### Decision so far', '', `_${v.decision}_`, ''] : [renderDecisionMarkdown(v.decision), '']),
        ...section('Golden cases (runbook 3.2, 5.6)', v.golden, () => renderGoldenMarkdown(v.golden as GoldenReport)),
        ...section('Smoke tests (runbook 4.5, 5.1–5.5)', v.smoke, () => renderSmokeMarkdown(v.smoke as SmokeResult)),
      ];
  const body = [...head, ...shown].join('\n');
  if (body.length <= ISSUE_BODY_MAX) return body;
  const note = `\n\n_Cut at ${ISSUE_BODY_MAX} characters: the full summaries are on the run's page._\n`;
  return body.slice(0, ISSUE_BODY_MAX - note.length) + note;
}
