import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { UserError, type ErrorLocation } from './errors.js';

/**
 * Small CSV reader/writer (RFC 4180 quoting) for the engine's batch mode and the golden files.
 *
 * Two dialects are met in practice: plain `,` files, and French spreadsheet exports, which use `;`
 * between fields, a decimal comma in numbers and often a UTF-8 byte order mark. The delimiter is
 * detected from the header line (whichever of `,` and `;` occurs more often outside quotes), so
 * callers never have to ask the user. Reading is streamed: records are handed out as soon as they
 * are complete, so a file of any length is read in constant memory.
 */
export type CsvDelimiter = ',' | ';';

export interface CsvDialect {
  delimiter: CsvDelimiter;
  /** the input started with a UTF-8 byte order mark (written back, so spreadsheets keep reading it as UTF-8) */
  bom: boolean;
  /** numbers may use a decimal comma: assumed for `;` files, where a comma cannot be a separator */
  decimalComma: boolean;
}

export interface CsvRawRecord {
  /** 1-based line on which the record starts */
  line: number;
  fields: string[];
  /** set when the record breaks RFC 4180 (text after a closing quote); `fields` are then best effort */
  error?: string;
}

export interface CsvRecord extends CsvRawRecord {
  /** 1-based data row, header excluded (blank lines are not rows) */
  row: number;
}

/** Counts both candidate delimiters outside quotes; ties and single-column headers give `,`. */
export function detectDelimiter(headerLine: string): CsvDelimiter {
  let inQuotes = false;
  let commas = 0;
  let semicolons = 0;
  for (const ch of headerLine) {
    if (ch === '"') inQuotes = !inQuotes;
    else if (!inQuotes && ch === ',') commas++;
    else if (!inQuotes && ch === ';') semicolons++;
  }
  return semicolons > commas ? ';' : ',';
}

const NEWLINES = /\r\n|\r|\n/g;

function countNewlines(text: string): number {
  return text.match(NEWLINES)?.length ?? 0;
}

/**
 * Incremental parser: `push` chunks, get back the records completed so far; `end` flushes the
 * last one. A record whose end is not yet in the buffer (open quote, or a `\r` that may be
 * followed by `\n`) waits for the next chunk.
 */
export class CsvParser {
  private buf = '';
  private line = 1;
  private started = false;
  private delim: CsvDelimiter | undefined;
  private hadBom = false;

  constructor(delimiter?: CsvDelimiter) {
    this.delim = delimiter;
  }

  /** undefined until the header line has been seen (when detecting) */
  get dialect(): CsvDialect | undefined {
    if (!this.delim) return undefined;
    return { delimiter: this.delim, bom: this.hadBom, decimalComma: this.delim === ';' };
  }

  push(chunk: string): CsvRawRecord[] {
    this.buf += chunk;
    return this.drain(false);
  }

  /** Throws `CSV_UNTERMINATED_QUOTE` (a UserError) when the input ends inside a quoted field. */
  end(file = 'input'): CsvRawRecord[] {
    const out = this.drain(true);
    if (this.buf.length > 0) {
      throw new UserError('CSV_UNTERMINATED_QUOTE', `a quoted field opened on line ${this.line} is never closed`, {
        where: { file, line: this.line },
      });
    }
    return out;
  }

  private drain(final: boolean): CsvRawRecord[] {
    if (!this.started) {
      if (this.buf.length === 0) return [];
      if (this.buf.charCodeAt(0) === 0xfeff) {
        this.hadBom = true;
        this.buf = this.buf.slice(1);
      }
      this.started = true;
    }
    if (!this.delim) {
      const nl = this.buf.search(/[\r\n]/);
      if (nl < 0 && !final) return [];
      this.delim = detectDelimiter(nl < 0 ? this.buf : this.buf.slice(0, nl));
    }
    const out: CsvRawRecord[] = [];
    let pos = 0;
    for (;;) {
      const parsed = this.parseRecord(pos, final);
      if (!parsed) break;
      const startLine = this.line;
      this.line += countNewlines(this.buf.slice(pos, parsed.next));
      pos = parsed.next;
      // a blank line is not a record (spreadsheets and editors leave them at the end)
      if (!(parsed.fields.length === 1 && parsed.fields[0] === '' && !parsed.quoted)) {
        const rec: CsvRawRecord = { line: startLine, fields: parsed.fields };
        if (parsed.error) rec.error = parsed.error;
        out.push(rec);
      }
      if (pos >= this.buf.length) break;
    }
    this.buf = this.buf.slice(pos);
    return out;
  }

  /** One record from `start`, or undefined when its end is not in the buffer yet. */
  private parseRecord(start: number, final: boolean): { fields: string[]; next: number; quoted: boolean; error?: string } | undefined {
    const buf = this.buf;
    const d = this.delim!;
    const n = buf.length;
    if (start >= n) return undefined;
    const fields: string[] = [];
    let i = start;
    let error: string | undefined;
    let quoted = false;
    for (;;) {
      let value: string;
      if (buf[i] === '"') {
        quoted = true;
        value = '';
        let j = i + 1;
        for (;;) {
          const k = buf.indexOf('"', j);
          if (k < 0) return undefined; // closing quote not read yet (or never: `end` reports it)
          value += buf.slice(j, k);
          if (k + 1 >= n && !final) return undefined; // `""` may straddle two chunks
          if (buf[k + 1] === '"') {
            value += '"';
            j = k + 2;
            continue;
          }
          i = k + 1;
          break;
        }
        if (i < n && buf[i] !== d && buf[i] !== '\r' && buf[i] !== '\n') {
          error ??= `text after a closing quote in field ${fields.length + 1}`;
          let k = i;
          while (k < n && buf[k] !== d && buf[k] !== '\r' && buf[k] !== '\n') k++;
          value += buf.slice(i, k);
          i = k;
        }
      } else {
        let k = i;
        while (k < n) {
          const c = buf[k];
          if (c === d || c === '\n' || c === '\r') break;
          k++;
        }
        value = buf.slice(i, k);
        i = k;
      }
      fields.push(value);
      if (i >= n) {
        if (!final) return undefined;
        return { fields, next: n, quoted, ...(error ? { error } : {}) };
      }
      const c = buf[i];
      if (c === d) {
        i++;
        continue;
      }
      if (c === '\r') {
        if (i + 1 >= n && !final) return undefined;
        return { fields, next: buf[i + 1] === '\n' ? i + 2 : i + 1, quoted, ...(error ? { error } : {}) };
      }
      return { fields, next: i + 1, quoted, ...(error ? { error } : {}) };
    }
  }
}

export interface ParsedCsv {
  dialect: CsvDialect;
  header: string[];
  records: CsvRecord[];
}

function numberRecords(raw: CsvRawRecord[], firstRow: number): CsvRecord[] {
  return raw.map((r, i) => ({ ...r, row: firstRow + i }));
}

/** Whole-text parse for small inputs (golden files, tests). */
export function parseCsv(text: string, file = 'input'): ParsedCsv {
  const p = new CsvParser();
  const raw = [...p.push(text), ...p.end(file)];
  const head = raw.shift();
  if (!head) throw new UserError('CSV_EMPTY', `${file} is empty: expected a header line`, { where: { file } });
  checkHeader(head.fields, file);
  return { dialect: p.dialect!, header: head.fields.map((h) => h.trim()), records: numberRecords(raw, 1) };
}

function checkHeader(fields: string[], file: string): void {
  const seen = new Set<string>();
  for (const f of fields) {
    const k = f.trim().toLowerCase();
    if (k && seen.has(k))
      throw new UserError('CSV_DUPLICATE_COLUMN', `column "${f.trim()}" appears twice in the header`, {
        where: { file, line: 1, field: f.trim() },
      });
    seen.add(k);
  }
}

/**
 * Offset of the first byte that does not belong to a well-formed UTF-8 sequence, or -1.
 * (node's isUtf8 only says yes or no; the user needs the place.)
 */
export function firstNonUtf8Byte(b: Uint8Array): number {
  const cont = (i: number, lo = 0x80, hi = 0xbf) => i < b.length && b[i]! >= lo && b[i]! <= hi;
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    let n: number;
    if (c < 0x80) n = 1;
    else if (c >= 0xc2 && c <= 0xdf && cont(i + 1)) n = 2;
    else if (c === 0xe0 && cont(i + 1, 0xa0) && cont(i + 2)) n = 3;
    else if (((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) && cont(i + 1) && cont(i + 2)) n = 3;
    else if (c === 0xed && cont(i + 1, 0x80, 0x9f) && cont(i + 2)) n = 3;
    else if (c === 0xf0 && cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3)) n = 4;
    else if (c >= 0xf1 && c <= 0xf3 && cont(i + 1) && cont(i + 2) && cont(i + 3)) n = 4;
    else if (c === 0xf4 && cont(i + 1, 0x80, 0x8f) && cont(i + 2) && cont(i + 3)) n = 4;
    else return i;
    i += n;
  }
  return -1;
}

/**
 * The text of a file that must be UTF-8. A spreadsheet saved as plain "CSV" on Windows writes
 * Windows-1252/latin-1: read as UTF-8, "é" would silently become U+FFFD and a reference or a
 * note would no longer match SEP's. So the first byte that is not UTF-8 is refused, naming its
 * line and, for a CSV, its data row and column. A byte order mark is kept (the parser notes it).
 */
export function decodeUtf8(bytes: Uint8Array, file: string, opts: { csv?: boolean } = {}): string {
  if (isUtf8(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const hint = 're-save it as UTF-8: Excel "CSV UTF-8 (comma delimited)", LibreOffice character set "Unicode (UTF-8)"';
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new UserError('NOT_UTF8', 'the file is UTF-16 (it starts with a UTF-16 byte order mark), not UTF-8', { where: { file }, hint });
  }
  const bad = firstNonUtf8Byte(bytes);
  let lineStart = 0;
  let line = 1;
  for (let i = 0; i < bad; i++) {
    const c = bytes[i];
    if (c === 0x0a || (c === 0x0d && bytes[i + 1] !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  const byte = bytes[bad]!;
  const before = Buffer.from(bytes.subarray(Math.max(lineStart, bad - 30), bad)).toString('latin1');
  const where: ErrorLocation = { file, line, ...(opts.csv ? csvPlace(bytes, lineStart, bad) : {}) };
  const hex = `0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  throw new UserError(
    'NOT_UTF8',
    `byte ${hex} is not UTF-8: the file is saved in another encoding (read as latin-1: "${before}${String.fromCharCode(byte)}")`,
    {
      where,
      hint,
    },
  );
}

/** Data row and column of a byte of a CSV, from the valid text before its line. */
function csvPlace(bytes: Uint8Array, lineStart: number, bad: number): { row?: number; field?: string } {
  const parser = new CsvParser();
  const records = parser.push(Buffer.from(bytes.subarray(0, lineStart)).toString('utf8'));
  const header = records[0]?.fields.map((h) => h.trim());
  if (!header) return {};
  const d = parser.dialect!.delimiter.charCodeAt(0);
  let column = 0;
  let quoted = false;
  for (let i = lineStart; i < bad; i++) {
    if (bytes[i] === 0x22) quoted = !quoted;
    else if (bytes[i] === d && !quoted) column++;
  }
  return { row: records.length, ...(header[column] ? { field: header[column] } : {}) };
}

export interface CsvFileReader {
  file: string;
  dialect: CsvDialect;
  /** header names, trimmed */
  header: string[];
  /** the data records, streamed */
  records: AsyncGenerator<CsvRecord>;
}

/**
 * Opens a CSV file and reads its header; the records are streamed. `displayName` is what error
 * messages call the file (the path as the user typed it).
 */
export async function openCsvFile(path: string, displayName = path): Promise<CsvFileReader> {
  const parser = new CsvParser();
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 16 });
  const raw = (async function* (): AsyncGenerator<CsvRawRecord> {
    try {
      for await (const chunk of stream) yield* parser.push(chunk as string);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT')
        throw new UserError('FILE_NOT_FOUND', `${displayName}: no such file`, { where: { file: displayName }, cause: e });
      if (code === 'EISDIR')
        throw new UserError('FILE_NOT_FOUND', `${displayName} is a directory, not a CSV file`, { where: { file: displayName }, cause: e });
      if (code === 'EACCES')
        throw new UserError('FILE_NOT_READABLE', `${displayName}: permission denied`, { where: { file: displayName }, cause: e });
      throw e;
    }
    yield* parser.end(displayName);
  })();
  const first = await raw.next();
  if (first.done) {
    throw new UserError('CSV_EMPTY', `${displayName} is empty: expected a header line`, { where: { file: displayName } });
  }
  checkHeader(first.value.fields, displayName);
  const records = (async function* (): AsyncGenerator<CsvRecord> {
    let row = 0;
    for await (const r of raw) yield { ...r, row: ++row };
  })();
  return { file: displayName, dialect: parser.dialect!, header: first.value.fields.map((h) => h.trim()), records };
}

/** Index of a column by name (trimmed, case-insensitive), or -1. */
export function columnIndex(header: readonly string[], name: string): number {
  const k = name.toLowerCase();
  return header.findIndex((h) => h.trim().toLowerCase() === k);
}

/** RFC 4180: quote a field holding the delimiter, a quote or a line break; double inner quotes. */
export function formatCsvField(value: string, delimiter: CsvDelimiter): string {
  if (value.includes(delimiter) || value.includes('"') || value.includes('\n') || value.includes('\r')) {
    return `"${value.replaceAll('"', '""')}"`;
  }
  return value;
}

/** What a spreadsheet takes for the start of a formula (OWASP, CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A cell copied from untrusted input, made safe to open in a spreadsheet: text that starts like a
 * formula gets a leading `'`, which spreadsheets show as text instead of running it (OWASP CSV
 * injection guidance). A number (`-5`, or `-3,5` with a decimal comma) is left alone: it runs
 * nothing, and a prefix would turn it into text. Applied by the caller to the cells it copies,
 * never to values it computed. A cell already prefixed stays as it is, so re-running is stable.
 */
export function neutraliseFormula(value: string, decimalComma: boolean): string {
  if (!FORMULA_START.test(value) || parseDecimal(value, decimalComma) !== undefined) return value;
  return `'${value}`;
}

/** One record, without its line ending. */
export function formatCsvRecord(fields: readonly string[], delimiter: CsvDelimiter): string {
  return fields.map((f) => formatCsvField(f, delimiter)).join(delimiter);
}

const DECIMAL_DOT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const DECIMAL_DOT_OR_COMMA = /^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A decimal number as written in a cell, or undefined when it is not one. Strict on purpose:
 * "1 234", "1.234,5" or "12abc" are refused rather than half-read, since a volume misread by a
 * factor of 1000 would pass every later check.
 */
export function parseDecimal(text: string, decimalComma: boolean): number | undefined {
  const t = text.trim();
  if (!(decimalComma ? DECIMAL_DOT_OR_COMMA : DECIMAL_DOT).test(t)) return undefined;
  const n = Number(decimalComma ? t.replace(',', '.') : t);
  return Number.isFinite(n) ? n : undefined;
}

/** Shortest text that reads back as the same double, with a decimal comma when asked. */
export function formatDecimal(n: number, decimalComma: boolean): string {
  const s = String(n);
  return decimalComma ? s.replace('.', ',') : s;
}
