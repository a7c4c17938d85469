import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import { splitSql, type SqlStatement } from '../db/sql-split.js';
import { dropTransactionControl } from './db-init.js';

/**
 * A runbook change file, read and checked before anything touches the database: its
 * SHA-256 (over the bytes, as `sha256sum` gives it), its statements with their lines, and
 * a refusal of whatever would break the one transaction the pipeline frames it in. The
 * depot's files carry their own BEGIN/COMMIT; those are dropped so the pipeline can verify
 * before its own COMMIT.
 */
export interface ChangeFile {
  /** the name recorded in the ledger: the file's base name (the runbook names them) */
  name: string;
  /** as the user gave it, for messages */
  display: string;
  path: string;
  sha256: string;
  bytes: number;
  text: string;
  statements: SqlStatement[];
  /** BEGIN/COMMIT lines the pipeline dropped to frame the file itself */
  droppedTransactionControl: number[];
}

const FORBIDDEN: { re: RegExp; why: string }[] = [
  { re: /^(ROLLBACK|ABORT)\b/i, why: 'a ROLLBACK would end the transaction the pipeline verifies before COMMIT' },
  {
    re: /^(SAVEPOINT|RELEASE|PREPARE\s+TRANSACTION|COMMIT\s+PREPARED)\b/i,
    why: 'transaction control inside the file would escape the verification',
  },
  {
    re: /^(VACUUM|CLUSTER)\b|^CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY\b|^(REINDEX|DROP\s+INDEX)\b.*\bCONCURRENTLY\b|^ALTER\s+SYSTEM\b|^CREATE\s+DATABASE\b/i,
    why: 'cannot run inside a transaction',
  },
  {
    re: /^(SET|RESET)\s+(SESSION\s+)?(ROLE|SESSION\s+AUTHORIZATION)\b/i,
    why: 'would change who the rest of the file and its verification run as',
  },
];

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function loadChangeFile(file: string, display = file): Promise<ChangeFile> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    throw new UserError('FILE_NOT_FOUND', `cannot read change file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      where: { file: display },
    });
  }
  const text = buf.toString('utf8');
  if (text.includes('\u0000') || Buffer.compare(Buffer.from(text, 'utf8'), buf) !== 0) {
    throw new UserError('BAD_CHANGE_FILE', 'not a UTF-8 text file', { where: { file: display } });
  }
  const { statements, metaCommands } = splitSql(text);
  const meta = metaCommands[0];
  if (meta) {
    throw new UserError('SQL_META_COMMAND', `psql meta-command "${meta.command.slice(0, 40)}" cannot run in the pipeline's transaction`, {
      where: { file: display, line: meta.line },
      hint: 'remove it; the pipeline runs the file through a driver, not psql',
    });
  }
  const kept: SqlStatement[] = [];
  const dropped: number[] = [];
  for (const s of statements) {
    if (!dropTransactionControl(s)) {
      dropped.push(s.line);
      continue;
    }
    const bad = FORBIDDEN.find((f) => f.re.test(s.sql));
    if (bad)
      throw new UserError('BAD_CHANGE_FILE', `"${s.sql.split('\n')[0]!.slice(0, 60)}": ${bad.why}`, {
        where: { file: display, line: s.line },
      });
    kept.push(s);
  }
  if (!kept.length) throw new UserError('BAD_CHANGE_FILE', 'the file has no SQL statement', { where: { file: display } });
  return {
    name: path.basename(file),
    display,
    path: file,
    sha256: sha256Hex(buf),
    bytes: buf.length,
    text,
    statements: kept,
    droppedTransactionControl: dropped,
  };
}
