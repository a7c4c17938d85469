import { readFile } from 'node:fs/promises';
import { UserError } from '../../errors.js';
import { ML_PP_PROFILE, parseGoldenProfile, type GoldenProfile } from '../../golden/profile.js';
import type { RunContext } from '../../results/run-context.js';
import { parseToleranceL } from '../../golden/tolerance.js';

const ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export interface SmokeOptions {
  /** profils.user_id to act as; default: the first admin/directeur/gerant profile */
  asUser?: string;
  profile: GoldenProfile;
  /** where the profile came from, for the report */
  profileSource: string;
  toleranceL: number;
  /** force the tank (tests, or the depot's choice); default: chosen, preferring one where PARTENAIRE holds stock too (context.ts) */
  citerneId?: string;
  run: RunContext;
}

export async function resolveSmokeProfile(o: {
  profile?: string | undefined;
  goldenResult?: { path: string; display: string } | undefined;
}): Promise<{ profile: GoldenProfile; source: string }> {
  if (o.profile) return { profile: parseGoldenProfile(o.profile), source: '--profile' };
  if (!o.goldenResult) return { profile: ML_PP_PROFILE, source: "ML_PP's own (no golden result given)" };
  const { path: file, display } = o.goldenResult;
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      code ? 'MISSING_INPUT' : 'BAD_INPUT',
      code ? `cannot read ${display}: ${code}` : `${display} is not JSON: ${(e as Error).message}`,
      { where: { file: display } },
    );
  }
  const p = (value as { profile?: unknown } | null)?.profile;
  if (typeof p !== 'string')
    throw new UserError('BAD_INPUT', `${display} has no "profile" (is it a golden.json of golden-verify?)`, {
      where: { file: display, field: 'profile' },
    });
  return { profile: parseGoldenProfile(p, `${display}: profile`), source: `${display} (golden verification)` };
}

export function validateSmokeOptions(o: SmokeOptions): void {
  for (const [field, v] of [
    ['as-user', o.asUser],
    ['citerne', o.citerneId],
  ] as const) {
    if (v !== undefined && !ID.test(v))
      throw new UserError('BAD_OPTION', `--${field} "${v.slice(0, 50)}" is not an ML_PP id (8-4-4-4-12 hex)`, { where: { field } });
  }
  if (!(Number.isFinite(o.toleranceL) && o.toleranceL >= 0))
    throw new UserError('BAD_OPTION', `--tolerance-l ${o.toleranceL} must be a number of litres ≥ 0`, { where: { field: 'tolerance-l' } });
}

/** The CLI's and the action's inputs, validated the same way, before anything connects. */
export async function buildSmokeOptions(raw: {
  asUser?: string | undefined;
  profile?: string | undefined;
  goldenResult?: { path: string; display: string } | undefined;
  toleranceL?: string | undefined;
  citerne?: string | undefined;
  run: RunContext;
}): Promise<SmokeOptions> {
  const tol = parseToleranceL(raw.toleranceL);
  const { profile, source } = await resolveSmokeProfile({ profile: raw.profile, goldenResult: raw.goldenResult });
  const o: SmokeOptions = {
    profile,
    profileSource: source,
    toleranceL: tol,
    run: raw.run,
    ...(raw.asUser ? { asUser: raw.asUser.trim() } : {}),
    ...(raw.citerne ? { citerneId: raw.citerne.trim() } : {}),
  };
  validateSmokeOptions(o);
  return o;
}
