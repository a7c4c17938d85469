import { describe, expect, it } from 'vitest';
import { splitSql } from './sql-split.js';

describe('splitSql', () => {
  it('splits on semicolons and records the starting line of each statement', () => {
    const r = splitSql('SELECT 1;\n\n-- comment; not a statement\nSELECT 2;\n  SELECT\n 3');
    expect(r.statements).toEqual([
      { sql: 'SELECT 1', line: 1 },
      { sql: 'SELECT 2', line: 4 },
      { sql: 'SELECT\n 3', line: 5 },
    ]);
  });

  it('keeps semicolons inside strings, identifiers, E-strings and dollar quotes', () => {
    const sql = [
      "SELECT 'a;b', 'it''s;', E'x\\';y';",
      'SELECT "weird;name" FROM t;',
      'CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $body$',
      'BEGIN',
      "  RAISE NOTICE 'x;'; -- ;",
      '  PERFORM $$nested;$$;',
      'END;',
      '$body$;',
      'SELECT $1::int;',
    ].join('\n');
    const r = splitSql(sql);
    expect(r.statements.map((s) => s.line)).toEqual([1, 2, 3, 9]);
    expect(r.statements[2]!.sql).toContain('PERFORM $$nested;$$;');
    expect(r.statements[3]!.sql).toBe('SELECT $1::int');
  });

  it('treats BEGIN ATOMIC bodies as one statement', () => {
    const r = splitSql(
      'CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;\nSELECT 9;',
    );
    expect(r.statements).toHaveLength(2);
    expect(r.statements[1]).toEqual({ sql: 'SELECT 9', line: 2 });
  });

  it('skips nested block comments and counts their lines', () => {
    const r = splitSql('/* a /* b; */ c;\n */\nSELECT 1;');
    expect(r.statements).toEqual([{ sql: 'SELECT 1', line: 3 }]);
  });

  it('returns psql meta-commands apart, with their line', () => {
    const r = splitSql('--\n\\restrict abc\nSELECT 1;\n\\unrestrict abc\n');
    expect(r.metaCommands).toEqual([
      { command: '\\restrict abc', line: 2 },
      { command: '\\unrestrict abc', line: 4 },
    ]);
    expect(r.statements).toEqual([{ sql: 'SELECT 1', line: 3 }]);
  });

  it('does not mistake identifiers containing $ for dollar quotes', () => {
    const r = splitSql('SELECT a$b$c FROM t; SELECT 2;');
    expect(r.statements).toHaveLength(2);
  });
});
