import * as core from '@actions/core';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { secretsOf } from '../db/secrets.js';
import { parseSigningKey, type SigningKey } from '../crypto/signing.js';

/**
 * Action inputs, validated with zod. A database URL is masked the moment it is read, with
 * every secret derived from it (the password, decoded or not), before anything can log it.
 */
export function readDatabaseUrl(name = 'database-url'): string {
  const url = core.getInput(name, { required: false }).trim();
  if (!url)
    throw new UserError('MISSING_INPUT', `input ${name} is required (pass it from a secret: \${{ secrets.DATABASE_URL }})`, {
      where: { field: name },
    });
  for (const s of secretsOf(url)) core.setSecret(s);
  return url;
}

/**
 * The inputs the running action declares, recorded by readInputs, so that the one catch in
 * run.ts can tell the user "raise input lock-timeout-ms" only where that input exists.
 */
let declared: ReadonlySet<string> = new Set();
export const declaredInputs = (): ReadonlySet<string> => declared;
/** runAction calls it first: a failure before readInputs must not name the inputs of an action run earlier in this process. */
export const forgetDeclaredInputs = (): void => {
  declared = new Set();
};

export function readInputs<S extends z.ZodObject>(schema: S): z.infer<S> {
  declared = new Set(Object.keys(schema.shape));
  const raw: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = core.getInput(key);
    if (v !== '') raw[key] = v;
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = String(issue.path[0] ?? '(inputs)');
    throw new UserError('BAD_INPUT', `input ${field}: ${issue.message}`, { where: { field } });
  }
  return r.data;
}

/** The timeouts of steps that change the target, as inputs named like the CLI's options (parsed by parseTimeouts). */
export const TimeoutInputs = {
  'lock-timeout-ms': z.string().optional(),
  'statement-timeout-ms': z.string().optional(),
  'lock-wait-ms': z.string().optional(),
};

/** The signing key arrives as the content of a secret; its lines are masked before anything can print them. */
export function readSigningKeyInput(name = 'signing-key'): SigningKey | undefined {
  const pem = core.getInput(name);
  if (!pem.trim()) return undefined;
  for (const line of pem.split(/\r?\n/)) if (line.trim() && !line.startsWith('-----')) core.setSecret(line.trim());
  return parseSigningKey(pem, { input: name }, name);
}
