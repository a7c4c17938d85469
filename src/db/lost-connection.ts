/**
 * Errors that say the session itself is gone (its backend terminated, the server shutting down,
 * the socket closed), not that a statement was refused. A step that turns refusals into findings
 * must let these through: a lost connection is the operator's to act on (run again), never a
 * finding nor a bug. PostgreSQL rolls back the open transaction of a session that ends this way.
 */
const SESSION_ENDED_CODES = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, a restart
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57P05', // idle_session_timeout
  '25P03', // idle_in_transaction_session_timeout
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
]);

// node-pg reports a socket that closed under it with these texts and no code
const SESSION_ENDED_TEXT = /Connection terminated|not queryable|Client was closed|connection (?:is )?closed/i;

export function isConnectionLost(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const { code, message } = e as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (SESSION_ENDED_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  // a statement the server refused says so by its SQLSTATE, whatever its text
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return false;
  return typeof message === 'string' && SESSION_ENDED_TEXT.test(message);
}
