import { expect } from 'vitest';
import type { CommandContext, CommandSpec } from '../cli/command.js';
import { withOptionDefaults } from '../cli/main.js';
import { UserError } from '../errors.js';
import { memoryLogger } from '../logger.js';

/** Runs one command spec as the dispatcher would (option defaults, captured output), without argv parsing. */
export async function runCommand(
  spec: CommandSpec,
  values: CommandContext['values'],
  positionals: string[] = [],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; out: string; log: string[] }> {
  let out = '';
  const log = memoryLogger();
  const code = await spec.run({
    values: withOptionDefaults(spec, values),
    positionals,
    out: (t) => (out += t),
    log,
    cwd: opts.cwd ?? process.cwd(),
    env: opts.env ?? {},
  });
  return { code: code ?? 0, out, log: log.lines };
}

/** The UserError a promise (or a call) must fail with; anything else fails the test. */
export async function expectUserError(p: Promise<unknown> | (() => unknown)): Promise<UserError> {
  let e: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (x) {
    e = x;
  }
  expect(e, 'expected a UserError').toBeInstanceOf(UserError);
  return e as UserError;
}

/** Any failure a promise must end in (faults that are not the user's: killed connections, broken dumps). */
export async function expectFailure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

/** The UserError a synchronous call must throw (parsers, validators). */
export function expectUserErrorSync(fn: () => unknown): UserError {
  let e: unknown;
  try {
    fn();
  } catch (x) {
    e = x;
  }
  expect(e, 'expected a UserError').toBeInstanceOf(UserError);
  return e as UserError;
}
