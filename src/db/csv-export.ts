import { quoteIdent } from './checksum.js';
import { DigestSink, HashedFileSink } from './file-sink.js';
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

/** The one query behind a snapshot, so that the file and its re-export from a restored copy are comparable byte for byte. */
function snapshotSelect(schema: string, table: string, key: readonly string[]): string {
  const order = key.length ? key.map((k) => `t.${quoteIdent(k)}`).join(', ') : 't::text';
  return `SELECT t.* FROM ${quoteIdent(schema)}.${quoteIdent(table)} t ORDER BY ${order}`;
}

export async function exportTableCsv(
  q: Queryable,
  schema: string,
  table: string,
  key: readonly string[],
  file: string,
): Promise<CsvExport> {
  const sink = new HashedFileSink(file);
  const rows = await q.copyCsvTo(snapshotSelect(schema, table, key), sink);
  return { rows, ...sink.digest() };
}

/** What `exportTableCsv` would write for this table, counted and hashed without a file. */
export async function digestTableCsv(q: Queryable, schema: string, table: string, key: readonly string[]): Promise<CsvExport> {
  const sink = new DigestSink();
  const rows = await q.copyCsvTo(snapshotSelect(schema, table, key), sink);
  return { rows, ...sink.digest() };
}
