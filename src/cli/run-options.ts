import { runContextFrom, type RunContext } from '../results/run-context.js';
import { parseTimeouts, STEP_TIMEOUT_DEFAULTS, TIMEOUT_OPTIONS, type StepTimeouts, type TimeoutOptionName } from '../runbook/timeouts.js';
import type { CommandContext, OptionSpec } from './command.js';
import { stringOption } from './options.js';

/** Options several commands share: who runs, under which run id, and the timeouts of steps that change the target. */
export const runOptions: Record<string, OptionSpec> = {
  'run-id': {
    type: 'string',
    valueName: 'ID',
    description: 'run id recorded with every change (default: GITHUB_RUN_ID, else local-<time>)',
  },
  actor: { type: 'string', valueName: 'NAME', description: 'who runs this, recorded (default: GITHUB_ACTOR, else the OS user)' },
};

export const runOf = (ctx: CommandContext): RunContext =>
  runContextFrom(ctx.env, { runId: stringOption(ctx, 'run-id'), actor: stringOption(ctx, 'actor') });

export const timeoutOptions: Record<string, OptionSpec> = Object.fromEntries(
  Object.entries(TIMEOUT_OPTIONS).map(([name, o]) => [
    name,
    { type: 'string', valueName: 'MS', description: o.description, default: String(STEP_TIMEOUT_DEFAULTS[o.key]) },
  ]),
);

export const timeoutsOf = (ctx: CommandContext): StepTimeouts =>
  parseTimeouts(
    Object.fromEntries(Object.keys(TIMEOUT_OPTIONS).map((n) => [n, stringOption(ctx, n)])) as Record<TimeoutOptionName, string | undefined>,
  );

export const jsonOption: OptionSpec = { type: 'boolean', description: 'print the result as JSON' };
