import type { z } from 'zod';

/**
 * Rows from the database are validated before use: a column that changed type in the target
 * (PROD moved on after the runbook) fails here, naming the query, row and field, instead of
 * producing a wrong number three steps later.
 */
export class RowShapeError extends Error {
  constructor(
    readonly query: string,
    readonly row: number,
    readonly field: string,
    detail: string,
  ) {
    super(`${query}: row ${row}, field ${field}: ${detail}`);
    this.name = 'RowShapeError';
  }
}

export function parseRows<S extends z.ZodType>(schema: S, rows: readonly unknown[], query: string): z.infer<S>[] {
  return rows.map((row, i) => {
    const r = schema.safeParse(row);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new RowShapeError(query, i + 1, issue.path.join('.') || '(row)', issue.message);
    }
    return r.data;
  });
}
