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
