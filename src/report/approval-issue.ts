import type { Decision } from '../results/decision.js';
import type { GoldenReport } from '../results/golden.js';
import type { SmokeResult } from '../results/smoke.js';
import type { TriggeredBy } from '../results/approvals.js';
import { renderDecisionMarkdown } from './decision.js';
import { renderGoldenMarkdown } from './golden.js';
import { renderSmokeMarkdown } from './smoke.js';

/**
 * The approval issue of actions/approval-gate (pure): what is to be approved — the golden and
 * smoke summaries, the decision so far, a link to the run — and how to answer it.
 */
export interface ApprovalIssueView {
  environment: string;
  runId: string;
  runUrl: string;
  triggeredBy: TriggeredBy;
  approvers: readonly string[];
  deadline: string;
  timeoutMinutes: number;
  golden: GoldenReport | string;
  smoke: SmokeResult | string;
  decision: Decision | string;
}

/** GitHub refuses an issue body over 65 536 characters. */
export const ISSUE_BODY_MAX = 65_536;

export const approvalIssueTitle = (v: { environment: string; runUrl: string }): string =>
  `astm53b: GO / NO-GO of run ${v.runUrl.split('/').pop()} (${v.environment}, runbook 5.6)`;

const section = (title: string, r: string | { toString(): string }, render: () => string) =>
  typeof r === 'string'
    ? [`### ${title}`, '', `_${r}_`, '']
    : ['<details><summary>' + title + '</summary>', '', render(), '</details>', ''];

export function renderApprovalIssue(v: ApprovalIssueView): string {
  const t = v.triggeredBy;
  const head = [
    `**Validation écrite responsable dépôt (runbook 5.6)** for [run ${v.runId}](${v.runUrl}), gate \`${v.environment}\`.`,
    '',
    `Run started by @${t.actor}${t.triggeringActor === t.actor ? '' : `, re-run by @${t.triggeringActor}`}: whoever started it cannot approve it.`,
    '',
    `**To answer, ${v.approvers.map((a) => `@${a}`).join(' or ')}:** comment \`GO\` or \`NO-GO\` as the first word, then your comment ` +
      '(e.g. `GO chiffres SEP conformes`). The first such comment by a listed approver decides; it is recorded with its author, time and text, and this issue is closed.',
    '',
    `Without an answer by **${v.deadline}** (${v.timeoutMinutes} min) there is no sign-off and the run decides NO-GO (rollback).`,
    '',
    '---',
    '',
  ];
  const decision =
    typeof v.decision === 'string' ? ['### Decision so far', '', `_${v.decision}_`, ''] : [renderDecisionMarkdown(v.decision), ''];
  const body = [
    ...head,
    ...decision,
    ...section('Golden cases (runbook 3.2, 5.6)', v.golden, () => renderGoldenMarkdown(v.golden as GoldenReport)),
    ...section('Smoke tests (runbook 4.5, 5.1–5.5)', v.smoke, () => renderSmokeMarkdown(v.smoke as SmokeResult)),
  ].join('\n');
  if (body.length <= ISSUE_BODY_MAX) return body;
  const note = `\n\n_Cut at ${ISSUE_BODY_MAX} characters: the full summaries are on the run's page._\n`;
  return body.slice(0, ISSUE_BODY_MAX - note.length) + note;
}
