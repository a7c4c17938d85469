import { UserError } from '../errors.js';

/** `--url env:NAME` keeps the password out of argv and shell history. */
export function resolveUrlOption(value: string, env: NodeJS.ProcessEnv): string {
  const m = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(value);
  if (!m) return value;
  const v = env[m[1]!];
  if (!v) throw new UserError('BAD_OPTION', `--url env:${m[1]}: the environment variable ${m[1]} is not set`, { where: { field: 'url' } });
  return v;
}
