import * as core from '@actions/core';
import { classifyFailure } from '../db/failure.js';
import type { Logger } from '../logger.js';
import { declaredInputs, forgetDeclaredInputs } from './inputs.js';

/**
 * The one place an action fails. Steps throw; this catch turns a UserError, or a failure of the
 * server or the network under the step (classifyFailure), into its one-line description and
 * anything else into "internal error" with a stack in the debug log, and calls setFailed.
 * Nothing else in the code base calls setFailed.
 */
export const actionLogger: Logger = {
  info: (m) => core.info(m),
  warn: (m) => core.warning(m),
  debug: (m) => core.debug(m),
};

/** What a body returns when its check ran and failed (the step did its job; the target did not pass). */
export interface CheckFailure {
  failure: string;
}

export async function runAction(name: string, body: (log: Logger) => Promise<void | CheckFailure>): Promise<void> {
  forgetDeclaredInputs();
  try {
    const out = await body(actionLogger);
    if (out) core.setFailed(`${name}: ${out.failure}`);
  } catch (e) {
    const user = classifyFailure(e, { setting: (n) => (declaredInputs().has(n) ? `input ${n}` : undefined) });
    if (user) {
      if (user !== e) core.debug(e instanceof Error ? (e.stack ?? e.message) : String(e));
      const w = user.where;
      core.setFailed(`${name}: ${user.describe()}`);
      if (w?.file) {
        // an annotation on the offending line of the change file or golden CSV
        core.error(user.message, { title: `${name}: ${user.code}`, file: w.file, ...(w.line ? { startLine: w.line } : {}) });
      }
      return;
    }
    core.debug(e instanceof Error ? (e.stack ?? e.message) : String(e));
    core.setFailed(`${name}: internal error (a bug): ${e instanceof Error ? e.message : String(e)}`);
  }
}
