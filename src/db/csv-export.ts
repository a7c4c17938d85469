import { quoteIdent } from './checksum.js';
import { DigestSink, HashedFileSink } from './file-sink.js';
import type { Db, Queryable } from './types.js';

/**
 * A table as CSV in primary-key order, written by PostgreSQL itself (`COPY … (FORMAT csv,
 * HEADER)`) and streamed to the file, so memory stays bounded whatever the table's size. Runs
 * inside the caller's transaction (the backup's snapshot). Every value is in PostgreSQL's own
 * text form under fixed settings (CSV_TEXT_SETTINGS: UTC, ISO dates), so timestamps keep their
 * microseconds and numerics their scale; NULL is an empty
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

/**
 * The session settings that decide how a value is written as text (timestamps, dates, intervals,
 * floats, bytea), fixed for every export: the same rows give the same bytes whichever database
 * they are read from, the source (whose database or role may set its own TimeZone or DateStyle)
 * or a scratch copy made from template0 on another server. pg_dump fixes them the same way.
 */
export const CSV_TEXT_SETTINGS: readonly (readonly [string, string])[] = [
  ['TimeZone', 'UTC'],
  ['DateStyle', 'ISO, MDY'],
  ['IntervalStyle', 'postgres'],
  ['extra_float_digits', '1'],
  ['bytea_output', 'hex'],
];

const SET_ALL = `SELECT ${CSV_TEXT_SETTINGS.map(([k], i) => `set_config('${k}', $${i + 1}, false)`).join(', ')}`;

/**
 * `fn` on one session whose text settings are CSV_TEXT_SETTINGS, put back as they were after. A
 * Db's pool is pinned to one connection (and that connection is not reused); a transaction or a
 * session is used as it is, its own settings restored (a snapshot transaction goes on after).
 */
async function inCsvTextForm<T>(q: Queryable, fn: (session: Queryable) => Promise<T>): Promise<T> {
  if ('withClient' in q) return (q as Db).withClient((c) => inCsvTextForm(c, fn), { discard: true });
  const before = (
    await q.query<{ v: string[] }>(`SELECT ARRAY[${CSV_TEXT_SETTINGS.map(([k]) => `current_setting('${k}')`).join(', ')}] AS v`)
  ).rows[0]!.v;
  await q.query(
    SET_ALL,
    CSV_TEXT_SETTINGS.map(([, v]) => v),
  );
  try {
    return await fn(q);
  } finally {
    // in an aborted transaction this fails too, and the abort puts them back anyway
    await q.query(SET_ALL, before).catch(() => {});
  }
}

export async function exportTableCsv(
  q: Queryable,
  schema: string,
  table: string,
  key: readonly string[],
  file: string,
): Promise<CsvExport> {
  return inCsvTextForm(q, async (session) => {
    const sink = new HashedFileSink(file);
    const rows = await session.copyCsvTo(snapshotSelect(schema, table, key), sink);
    return { rows, ...sink.digest() };
  });
}

/** What `exportTableCsv` would write for this table, counted and hashed without a file. */
export async function digestTableCsv(q: Queryable, schema: string, table: string, key: readonly string[]): Promise<CsvExport> {
  return inCsvTextForm(q, async (session) => {
    const sink = new DigestSink();
    const rows = await session.copyCsvTo(snapshotSelect(schema, table, key), sink);
    return { rows, ...sink.digest() };
  });
}
