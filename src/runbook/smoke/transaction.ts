import { JWT_SETTINGS, impersonate } from '../../db/as-user.js';
import { isConnectionLost } from '../../db/lost-connection.js';
import { DEFAULT_TX, type AppIdentity, type Db, type Queryable } from '../../db/types.js';
import { asRefusal, type Refusal } from './findings.js';

/**
 * The smoke writes in ONE transaction that always ends in ROLLBACK, so no figure the app shows
 * ever sees its test truck, reception or sortie; and a smoke stopped at any point (its process
 * killed, its backend terminated, the network gone) leaves nothing either, because PostgreSQL
 * rolls back the open transaction of a session that ends. The connection is discarded afterwards:
 * the requests left custom-setting placeholders in its session.
 */
export async function inRolledBackTransaction<T>(db: Db, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.withClient(
    async (c) => {
      await c.query('BEGIN');
      let out: T;
      try {
        await c.query(`SET LOCAL lock_timeout = ${DEFAULT_TX.lockTimeoutMs}`);
        await c.query(`SET LOCAL statement_timeout = ${DEFAULT_TX.statementTimeoutMs}`);
        out = await fn(c);
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        throw e;
      }
      await c.query('ROLLBACK');
      return out;
    },
    { discard: true },
  );
}

/**
 * The app's successive PostgREST requests, inside the smoke's one transaction. PostgREST runs
 * each request in a transaction of its own, and the app's SECURITY DEFINER code relies on that:
 * validate_sortie and the reception trigger set DB-STRICT flags with set_config(…, true), which
 * last until the end of the transaction. Batched naively, the flag validate_sortie set would let
 * the next statement UPDATE the validated sortie, and a DB-STRICT probe would pass for the wrong
 * reason. So each request is a SAVEPOINT and afterwards the session gets back what a new
 * transaction would have: the role, the JWT claims and every custom setting the database's code
 * sets or reads (found in the catalog, so a flag added by a later change is covered too).
 */
export interface Requests {
  /** One request as `who` (undefined: the pipeline itself, as the session's own role). */
  as<T>(who: AppIdentity | undefined, fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** A statement that must be refused: its savepoint is rolled back whatever happens. Null: it was accepted. */
  probe(who: AppIdentity | undefined, sql: string, params: readonly unknown[]): Promise<Refusal | null>;
}

// literal setting names the database's code passes to set_config/current_setting, or SETs itself
const NAMED_IN_CODE = String.raw`(?:set_config|current_setting)\s*\(\s*'([^']+)'`;
const SET_IN_CODE = String.raw`\mSET\s+(?:LOCAL\s+)?"?([A-Za-z_][A-Za-z0-9_$]*\.[A-Za-z0-9_$.]+)"?\s*(?:=|TO\M)`;
const SETTING_NAME = String.raw`^[a-z_][a-z0-9_$]*(\.[a-z_][a-z0-9_$]*)*$`;

/**
 * What a request may leave behind: every custom (dotted) setting named by the code of the
 * database's own functions. Extensions' functions are left out, and so are the real settings
 * they define that a request cannot set: reading some of those needs privileges, and no
 * PostgREST request changes them.
 */
async function settingsToGuard(tx: Queryable): Promise<string[]> {
  const r = await tx.query<{ name: string }>(
    `WITH code AS (
       SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')),
     named AS (
       SELECT lower(m[1]) AS name FROM code CROSS JOIN LATERAL regexp_matches(code.prosrc, $1, 'gi') AS m
       UNION
       SELECT lower(m[1]) FROM code CROSS JOIN LATERAL regexp_matches(code.prosrc, $2, 'gi') AS m)
     SELECT name FROM named
      WHERE name ~ $3 AND position('.' IN name) > 0
        AND NOT EXISTS (SELECT 1 FROM pg_settings s WHERE lower(s.name) = named.name AND s.context <> 'user')
      ORDER BY name`,
    [NAMED_IN_CODE, SET_IN_CODE, SETTING_NAME],
  );
  return [...new Set([...r.rows.map((x) => x.name), ...JWT_SETTINGS])].sort();
}

/**
 * Call once the transaction's own settings are made (the freeze bypass): they are the baseline
 * each request starts from and returns to.
 */
export async function openRequests(tx: Queryable): Promise<Requests> {
  const names = await settingsToGuard(tx);
  const read = async () =>
    (
      await tx.query<{ name: string; value: string }>(
        'SELECT n AS name, coalesce(current_setting(n, true), $2) AS value FROM unnest($1::text[]) AS n',
        [names, ''],
      )
    ).rows;
  const baseline = new Map((await read()).map((x) => [x.name, x.value]));
  const role = (await tx.query<{ role: string }>("SELECT current_setting('role') AS role")).rows[0]!.role;
  let n = 0;

  // SET LOCAL ROLE back first: the settings are then put back as the pipeline, not as the app user
  async function restore(): Promise<void> {
    await tx.query("SELECT set_config('role', $1, true)", [role]);
    const changed = (await read()).filter((x) => x.value !== baseline.get(x.name));
    if (changed.length)
      await tx.query('SELECT set_config(x.n, x.v, true) FROM unnest($1::text[], $2::text[]) AS x(n, v)', [
        changed.map((x) => x.name),
        changed.map((x) => baseline.get(x.name) ?? ''),
      ]);
  }

  async function rollbackTo(sp: string): Promise<void> {
    await tx.query(`ROLLBACK TO SAVEPOINT ${sp}`);
    await tx.query(`RELEASE SAVEPOINT ${sp}`);
  }

  return {
    async as(who, fn) {
      const sp = `astm53b_request_${++n}`;
      await tx.query(`SAVEPOINT ${sp}`);
      let out;
      try {
        if (who) await impersonate(tx, who);
        out = await fn(tx);
        await tx.query(`RELEASE SAVEPOINT ${sp}`);
      } catch (e) {
        // a dead session can do nothing more; its transaction is gone with it
        if (!isConnectionLost(e)) {
          await rollbackTo(sp);
          await restore();
        }
        throw e;
      }
      await restore();
      return out;
    },
    async probe(who, sql, params) {
      const sp = `astm53b_probe_${++n}`;
      await tx.query(`SAVEPOINT ${sp}`);
      let refusal: Refusal | null = null;
      try {
        if (who) await impersonate(tx, who);
        await tx.query(sql, params);
      } catch (e) {
        const r = asRefusal(e);
        if (!r) throw e;
        refusal = r;
      }
      await rollbackTo(sp);
      await restore();
      return refusal;
    },
  };
}
