import type { AppActivity } from '../results/common.js';
import type { FreezeStatus } from '../results/freeze.js';

/** Pure renderer of the freeze state. */
export function renderFreezeText(s: FreezeStatus & { changed?: boolean; forced?: boolean }): string {
  const state = s.frozen ? `FROZEN since ${s.since} by ${s.by}, run ${s.runId}: ${s.reason}` : 'not frozen';
  return [
    `${s.target}: ${state}${s.changed === false ? ' (unchanged)' : ''}${s.forced ? ' (forced despite app activity)' : ''}`,
    `guard triggers on: ${s.guardedTables.length ? s.guardedTables.join(', ') : 'none'}`,
    ...(s.consistent ? [] : ['INCONSISTENT: the recorded state and the guard triggers disagree; run freeze on or off again']),
    '',
  ].join('\n');
}

/** The job summary of actions/freeze. */
export function renderFreezeMarkdown(
  s: FreezeStatus & { action?: 'on' | 'off'; changed?: boolean; forced?: boolean; activity?: AppActivity },
): string {
  const icon = s.consistent ? (s.frozen ? '🧊' : '✅') : '❌';
  const head = s.frozen ? `frozen since ${s.since} by ${s.by}` : 'not frozen: receptions and sorties accepted';
  const lines = [
    `### Freeze (runbook 3.4 / 4.1) ${icon} ${head}${s.changed === false ? ' (unchanged)' : ''}`,
    '',
    `| | |`,
    `| --- | --- |`,
    `| target | \`${s.target}\` |`,
    ...(s.frozen ? [`| reason | ${cell(s.reason ?? '')} |`, `| run | \`${s.runId}\` |`] : []),
    `| guard triggers on | ${s.guardedTables.length ? s.guardedTables.map((t) => `\`public.${t}\``).join(', ') : 'none'} |`,
    ...(s.forced ? ['| forced | yes: the app looked active (below) |'] : []),
  ];
  if (s.activity?.seen.length) lines.push('', '**App activity seen when freezing**', '', ...s.activity.seen.map((x) => `- ${x}`));
  if (!s.consistent) lines.push('', '> ❌ The recorded state and the guard triggers disagree: run `freeze on` or `freeze off` again.');
  return `${lines.join('\n')}\n`;
}

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
