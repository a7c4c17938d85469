import { UserError } from '../errors.js';

/**
 * How long a step that changes the target may wait: for a lock on a table (the app should be
 * frozen, so a wait means something is wrong), for one statement, and for another pipeline run
 * on the same database. Read the same way from CLI options and action inputs, which share names.
 */
export interface StepTimeouts {
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  lockWaitMs: number;
}

export const STEP_TIMEOUT_DEFAULTS: StepTimeouts = {
  /** PROD: never queue behind the app for long; the freeze should make locks free anyway */
  lockTimeoutMs: 5_000,
  statementTimeoutMs: 120_000,
  /** how long a second run waits for the first before failing */
  lockWaitMs: 10_000,
};

export const TIMEOUT_OPTIONS = {
  'lock-timeout-ms': { key: 'lockTimeoutMs', description: 'lock_timeout of each statement' },
  'statement-timeout-ms': { key: 'statementTimeoutMs', description: 'statement_timeout of each statement' },
  'lock-wait-ms': { key: 'lockWaitMs', description: 'how long to wait for another pipeline step on the same database' },
} as const;

export type TimeoutOptionName = keyof typeof TIMEOUT_OPTIONS;

export function parseMs(v: unknown, field: string, fallback: number, max = 3_600_000): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new UserError(
      'BAD_OPTION',
      `--${field} must be a whole number of milliseconds between 1 and ${max}, got "${String(v).slice(0, 30)}"`,
      { where: { field } },
    );
  return n;
}

/** The three timeouts from options or inputs named as in TIMEOUT_OPTIONS; absent ones take the defaults. */
export function parseTimeouts(raw: Partial<Record<TimeoutOptionName, string | undefined>>): StepTimeouts {
  const out = { ...STEP_TIMEOUT_DEFAULTS };
  for (const [name, { key }] of Object.entries(TIMEOUT_OPTIONS) as [TimeoutOptionName, (typeof TIMEOUT_OPTIONS)[TimeoutOptionName]][]) {
    out[key] = parseMs(raw[name], name, STEP_TIMEOUT_DEFAULTS[key]);
  }
  return out;
}
