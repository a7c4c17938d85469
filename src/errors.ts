/**
 * One error class for everything that is the user's fault (bad input, wrong target, missing
 * tool, refused precondition). The entry points catch it once and print its message alone;
 * anything else is a bug and keeps its stack. `where` names the file, row and field so the
 * user can go straight to the mistake.
 */
export interface ErrorLocation {
  file?: string;
  /** 1-based line (SQL files) or data row (CSV/JSON, header excluded). */
  line?: number;
  row?: number;
  field?: string;
}

export class UserError extends Error {
  readonly code: string;
  readonly where: ErrorLocation | undefined;
  readonly hint: string | undefined;

  constructor(code: string, message: string, opts: { where?: ErrorLocation; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'UserError';
    this.code = code;
    this.where = opts.where;
    this.hint = opts.hint;
  }

  /** One line a person can act on: "code: file:line row 3 field x: message (hint)". */
  describe(): string {
    const w = this.where;
    const place = w
      ? [
          w.file ? `${w.file}${w.line !== undefined ? `:${w.line}` : ''}` : undefined,
          w.row !== undefined ? `row ${w.row}` : undefined,
          w.field ? `field ${w.field}` : undefined,
        ]
          .filter(Boolean)
          .join(' ')
      : '';
    return `${this.code}: ${place ? `${place}: ` : ''}${this.message}${this.hint ? ` (${this.hint})` : ''}`;
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
