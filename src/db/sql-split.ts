/**
 * Splits a SQL script into statements, keeping the line each one starts on, so that a failing
 * statement can be reported as file:line and the rest of the file is never run. Understands
 * what PostgreSQL's own lexer does at statement boundaries: quoted strings ('' and E'\''),
 * quoted identifiers, dollar quotes ($$, $tag$), line and nested block comments, and
 * `BEGIN ATOMIC … END` bodies. Lines that start with a backslash are psql meta-commands:
 * they are returned separately so the caller can decide (a plain driver cannot run them).
 */
export interface SqlStatement {
  /** statement text without the trailing semicolon */
  sql: string;
  /** 1-based line of the statement's first significant character */
  line: number;
}

export interface SplitResult {
  statements: SqlStatement[];
  metaCommands: { command: string; line: number }[];
}

export function splitSql(text: string): SplitResult {
  const statements: SqlStatement[] = [];
  const metaCommands: { command: string; line: number }[] = [];
  let i = 0;
  let line = 1;
  let start = -1;
  let startLine = 0;
  let atomicDepth = 0; // inside BEGIN ATOMIC … END
  const n = text.length;

  const flush = (end: number) => {
    if (start >= 0) {
      const sql = text.slice(start, end).trim();
      if (sql) statements.push({ sql, line: startLine });
    }
    start = -1;
  };
  const mark = () => {
    if (start < 0) {
      start = i;
      startLine = line;
    }
  };

  while (i < n) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    // psql meta-command: only at the start of a line outside any statement
    if (c === '\\' && start < 0 && (i === 0 || text[i - 1] === '\n')) {
      const eol = text.indexOf('\n', i);
      const end = eol < 0 ? n : eol;
      metaCommands.push({ command: text.slice(i, end).trim(), line });
      i = end;
      continue;
    }
    if (c === '-' && next === '-') {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? n : eol;
      continue;
    }
    if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (text[i] === '\n') line++;
        if (text[i] === '/' && text[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (text[i] === '*' && text[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      continue;
    }
    mark();
    if (c === "'") {
      // E'…' strings honour backslash escapes; standard strings only ''
      const prev = text[i - 1];
      const escapes = prev === 'E' || prev === 'e';
      i++;
      while (i < n) {
        const d = text[i]!;
        if (d === '\n') line++;
        if (escapes && d === '\\') {
          i += 2;
          continue;
        }
        if (d === "'") {
          if (text[i + 1] === "'") {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
      continue;
    }
    if (c === '"') {
      i++;
      while (i < n) {
        if (text[i] === '\n') line++;
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
      continue;
    }
    if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z_0-9]*)?\$/.exec(text.slice(i, i + 64));
      const prev = text[i - 1];
      // $1 parameters and identifiers containing $ are not dollar quotes
      if (m && !(prev && /[A-Za-z_0-9]/.test(prev))) {
        const tag = m[0];
        const close = text.indexOf(tag, i + tag.length);
        const end = close < 0 ? n : close + tag.length;
        for (let k = i; k < end; k++) if (text[k] === '\n') line++;
        i = end;
        continue;
      }
      i++;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < n && /[A-Za-z_0-9$]/.test(text[j]!)) j++;
      const word = text.slice(i, j).toUpperCase();
      if (word === 'ATOMIC' && /BEGIN\s+$/i.test(text.slice(Math.max(0, i - 16), i))) atomicDepth++;
      else if (atomicDepth > 0 && (word === 'CASE' || word === 'BEGIN')) atomicDepth++;
      else if (atomicDepth > 0 && word === 'END') atomicDepth--;
      i = j;
      continue;
    }
    if (c === ';' && atomicDepth === 0) {
      flush(i);
      i++;
      continue;
    }
    i++;
  }
  flush(n);
  return { statements, metaCommands };
}
