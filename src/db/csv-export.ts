import { quoteIdent } from './checksum.js';
import { HashedFileSink } from './file-sink.js';
import type { Queryable } from './types.js';

/**
 * A table as CSV in primary-key order, written by PostgreSQL itself (`COPY … (FORMAT csv,
 * HEADER)`) and streamed to the file, so memory stays bounded whatever the table's size. Runs
 * inside the caller's transaction (the backup's snapshot). Every value is in PostgreSQL's own
 * text form, so timestamps keep their microseconds and numerics their scale; NULL is an empty
 * field and an empty string is `""`, so the file loads back exactly with `COPY … FROM`.
 */
export interface CsvExport {
  rows: number;
  bytes: number;
  sha256: string;
}

export async function exportTableCsv(
  q: Queryable,
  schema: string,
  table: string,
  key: readonly string[],
  file: string,
): Promise<CsvExport> {
  const order = key.length ? key.map((k) => `t.${quoteIdent(k)}`).join(', ') : 't::text';
  const sink = new HashedFileSink(file);
  const rows = await q.copyCsvTo(`SELECT t.* FROM ${quoteIdent(schema)}.${quoteIdent(table)} t ORDER BY ${order}`, sink);
  return { rows, ...sink.digest() };
}
