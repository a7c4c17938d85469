import type { Db, Queryable } from '../db/types.js';

/**
 * The connection lost in the middle of a step, as a failure drill needs it: the first statement
 * that `when` picks out is never run; instead the session's backend is terminated by the server
 * (real PostgreSQL), or the embedded database answers as a terminated backend does (SQLSTATE
 * 57P01: PGlite has no backend to kill). Either way the step sees what it would see in PROD.
 */
export function cutConnectionAt(db: Db, when: (sql: string) => boolean): { db: Db; cut: () => boolean } {
  let done = false;
  const cut = async (session: Queryable): Promise<void> => {
    done = true;
    if (db.kind === 'pg') {
      const pid = (await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await db.query('SELECT pg_terminate_backend($1)', [pid]);
      for (let i = 0; i < 250; i++) {
        if (!(await db.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rows.length) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      return;
    }
    throw Object.assign(new Error('terminating connection due to administrator command (failure drill)'), { code: '57P01' });
  };
  const wrap = (s: Queryable): Queryable => ({
    async query<R>(sql: string, params?: readonly unknown[]) {
      if (!done && when(sql)) await cut(s);
      return s.query<R>(sql, params);
    },
    copyCsvTo: (select, sink) => s.copyCsvTo(select, sink),
  });
  const proxy: Db = {
    kind: db.kind,
    label: db.label,
    query: (sql, params) => proxy.withClient((c) => c.query(sql, params)),
    copyCsvTo: (select, sink) => proxy.withClient((c) => c.copyCsvTo(select, sink)),
    withClient: (fn, o) => db.withClient((c) => fn(wrap(c)), o),
    withTransaction: (fn, o) => db.withTransaction((tx) => fn(wrap(tx)), o),
    server: () => db.server(),
    close: async () => {},
  };
  return { db: proxy, cut: () => done };
}
