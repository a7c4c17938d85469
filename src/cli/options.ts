import path from 'node:path';
import { UserError } from '../errors.js';
import type { CommandContext } from './command.js';

/**
 * The one way commands read their options. A value is trimmed, and a blank one counts as not
 * given (`--out ''` and an empty workflow input behave alike), so every command treats
 * "absent" the same.
 */
export function stringOption(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  const t = typeof v === 'string' ? v.trim() : '';
  return t === '' ? undefined : t;
}

/** A repeatable option: every value given, blanks dropped. */
export function listOption(ctx: CommandContext, name: string): string[] {
  const v = ctx.values[name];
  const all = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  return all.map((x) => x.trim()).filter((x) => x !== '');
}

export function flagOption(ctx: CommandContext, name: string): boolean {
  return ctx.values[name] === true;
}

/** A file or folder option, resolved against the command's working folder. */
export function pathOption(ctx: CommandContext, name: string): string | undefined {
  const v = stringOption(ctx, name);
  return v === undefined ? undefined : path.resolve(ctx.cwd, v);
}

export function requiredOption(ctx: CommandContext, name: string, what: string): string {
  const v = stringOption(ctx, name);
  if (v === undefined) throw new UserError('MISSING_OPTION', `--${name} is required: ${what}`, { where: { field: name } });
  return v;
}

/** A whole number within bounds; the message names the option and says what is wrong with the value. */
export function integerOption(ctx: CommandContext, name: string, bounds: { min: number; max: number; unit?: string }): number | undefined {
  const v = stringOption(ctx, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < bounds.min || n > bounds.max) {
    throw new UserError(
      'BAD_OPTION',
      `--${name} must be a whole number${bounds.unit ? ` of ${bounds.unit}` : ''} between ${bounds.min} and ${bounds.max}, got "${v.slice(0, 30)}"`,
      { where: { field: name } },
    );
  }
  return n;
}
