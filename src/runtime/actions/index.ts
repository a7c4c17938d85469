import { backupAction, rollbackAction } from '../backup-actions.js';
import { approvalGateAction } from './approval-gate.js';
import { changelogPrAction } from './changelog-pr.js';
import { decideAction } from './decide.js';
import { evidenceAction } from './evidence.js';
import { goldenVerifyAction } from './golden-verify.js';
import { preflightAction } from './preflight.js';
import { restateAction } from './restate.js';
import { signoffAction } from './signoff.js';
import { smokeAction } from './smoke.js';
import { compatAction } from './compat.js';
import { freezeAction } from './freeze.js';
import { sqlApplyAction } from './sql-apply.js';
import { stagingResetAction } from './staging-reset.js';
import { watchAction } from './watch.js';

/** Every action's body by its folder name under actions/: read inputs, call the runbook function, publish outputs and summary. */
export const ACTIONS: Record<string, () => Promise<void>> = {
  'approval-gate': approvalGateAction,
  backup: backupAction,
  'changelog-pr': changelogPrAction,
  compat: compatAction,
  decide: decideAction,
  evidence: evidenceAction,
  freeze: freezeAction,
  'golden-verify': goldenVerifyAction,
  preflight: preflightAction,
  restate: restateAction,
  rollback: rollbackAction,
  signoff: signoffAction,
  smoke: smokeAction,
  'sql-apply': sqlApplyAction,
  'staging-reset': stagingResetAction,
  watch: watchAction,
};
