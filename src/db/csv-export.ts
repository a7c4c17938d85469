import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { quoteIdent } from './checksum.js';
import type { Queryable } from './types.js';

/**
 * A table as CSV in primary-key order, read through a cursor in batches, so memory stays
 * bounded whatever the table's size. Runs inside the caller's transaction (the backup's
 * snapshot). Every value is taken in PostgreSQL's own text form (`::text`), so timestamps keep
 * their microseconds and numerics their scale. The dialect is PostgreSQL's `COPY … CSV
 * HEADER`: NULL is an empty field, an empty string is `""`, so the file loads back exactly.
 */
export interface CsvExport {
  rows: number;
  bytes: number;
  sha256: string;
  columns: string[];
}

export function pgCsvField(v: string | null): string {
  if (v === null) return '';
  if (v === '' || /[",\n\r]/.test(v) || v === '\\.') return `"${v.replaceAll('"', '""')}"`;
  return v;
}

const BATCH = 2000;

export async function exportTableCsv(q: Queryable, schema: string, table: string, key: readonly string[], file: string): Promise<CsvExport> {
  const cols = await q.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_attribute a
      WHERE a.attrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [schema, table],
  );
  const columns = cols.rows.map((r) => r.name);
  const select = columns.map((c, i) => `t.${quoteIdent(c)}::text AS c${i}`).join(', ');
  const order = key.length ? key.map((k) => `t.${quoteIdent(k)}`).join(', ') : 't::text';
  const cursor = `astm53b_csv_${table.replace(/[^a-z0-9_]/gi, '_')}`.slice(0, 60);

  const out = createWriteStream(file);
  const hash = createHash('sha256');
  let bytes = 0;
  let rows = 0;
  const write = async (text: string) => {
    const buf = Buffer.from(text, 'utf8');
    hash.update(buf);
    bytes += buf.length;
    if (!out.write(buf)) await once(out, 'drain');
  };
  try {
    await write(`${columns.map(pgCsvField).join(',')}\n`);
    await q.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT ${select} FROM ${quoteIdent(schema)}.${quoteIdent(table)} t ORDER BY ${order}`);
    for (;;) {
      const batch = await q.query<Record<string, string | null>>(`FETCH ${BATCH} FROM ${cursor}`);
      if (batch.rows.length === 0) break;
      let text = '';
      for (const r of batch.rows) text += `${columns.map((_, i) => pgCsvField(r[`c${i}`] ?? null)).join(',')}\n`;
      rows += batch.rows.length;
      await write(text);
    }
    await q.query(`CLOSE ${cursor}`);
  } finally {
    out.end();
    await once(out, 'close');
  }
  return { rows, bytes, sha256: hash.digest('hex'), columns };
}
