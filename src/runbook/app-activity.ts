import { parseRows } from '../db/rows.js';
import type { Queryable } from '../db/types.js';
import { AppSession as Session, type AppActivity } from '../results/common.js';

/**
 * Is the app visibly writing? (runbook 4.1: "confirmer aucun utilisateur actif sur modules
 * stock"). Recent movements and log entries, and the sessions of the app's roles on this
 * database. Supabase's PostgREST keeps a pool of `authenticator` connections open all day,
 * so an idle session counts only if it did something within the window.
 */
export const APP_LOGIN_ROLES = ['authenticator', 'authenticated', 'anon', 'service_role'];
export const DEFAULT_ACTIVITY_MINUTES = 15;

export async function readAppActivity(q: Queryable, opts: { windowMinutes?: number; appRoles?: string[] } = {}): Promise<AppActivity> {
  const windowMinutes = opts.windowMinutes ?? DEFAULT_ACTIVITY_MINUTES;
  const appRoles = opts.appRoles ?? APP_LOGIN_ROLES;
  const since = `now() - make_interval(mins => $1::int)`;
  const counts = await q.query<{ receptions: number; sorties: number; logs: number }>(
    `SELECT (SELECT count(*) FROM public.receptions WHERE created_at >= ${since})::int8 AS receptions,
            (SELECT count(*) FROM public.sorties_produit WHERE created_at >= ${since})::int8 AS sorties,
            (SELECT count(*) FROM public.log_actions WHERE created_at >= ${since})::int8 AS logs`,
    [windowMinutes],
  );
  const s = await q.query(
    `SELECT pid, usename::text, coalesce(application_name, '') AS application_name, state, state_change::text,
            coalesce(state <> 'idle' OR state_change >= now() - make_interval(mins => $2::int), false) AS recent
       FROM pg_stat_activity
      WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
        AND usename = ANY($1) AND coalesce(application_name, '') NOT LIKE 'astm53b%'
      ORDER BY pid`,
    [appRoles, windowMinutes],
  );
  const sessions = parseRows(Session, s.rows, 'app sessions');
  const c = counts.rows[0]!;
  const recent = { receptions: c.receptions, sorties: c.sorties, logActions: c.logs };
  const activeSessions = sessions.filter((x) => x.recent);
  const seen = [
    ...(recent.receptions ? [`${recent.receptions} reception(s) created in the last ${windowMinutes} min`] : []),
    ...(recent.sorties ? [`${recent.sorties} sortie(s) created in the last ${windowMinutes} min`] : []),
    ...(recent.logActions ? [`${recent.logActions} log_actions row(s) in the last ${windowMinutes} min`] : []),
    ...activeSessions.map(
      (x) =>
        `session pid ${x.pid} of ${x.usename} (${x.application_name || 'no application_name'}) ${x.state ?? 'unknown state'} since ${x.state_change ?? '?'}`,
    ),
  ];
  return { windowMinutes, appRoles, recent, sessions, activeSessions, writing: seen.length > 0, seen };
}
