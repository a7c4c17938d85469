/**
 * Connection strings carry passwords. Nothing derived from one may reach a log, an error
 * message, an output or the bundle unmasked, so every place that shows a target calls
 * `maskConnectionString`, and every error from a driver passes through `redact`.
 */

/** postgresql://user:secret@host/db -> postgresql://user:***@host/db (also key=value DSNs). */
export function maskConnectionString(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of ['password', 'sslpassword', 'sslkey']) {
      if (u.searchParams.has(key)) u.searchParams.set(key, '***');
    }
    // URL re-encodes '***'; keep it readable
    return u.toString().replace(/%2A%2A%2A/g, '***');
  } catch {
    return url.replace(/(password\s*=\s*)('[^']*'|\S+)/gi, '$1***');
  }
}

/** The secrets carried by a connection string, so they can be masked wherever they surface. */
export function secretsOf(url: string): string[] {
  const out: string[] = [];
  try {
    const u = new URL(url);
    if (u.password) {
      out.push(u.password);
      const decoded = decodeURIComponent(u.password);
      if (decoded !== u.password) out.push(decoded);
    }
    const p = u.searchParams.get('password');
    if (p) out.push(p);
  } catch {
    const m = /password\s*=\s*('([^']*)'|(\S+))/i.exec(url);
    const s = m?.[2] ?? m?.[3];
    if (s) out.push(s);
  }
  // the whole string is secret only because of its password; without one it is a plain address
  if (out.length) out.push(url);
  return out.filter((s) => s.length > 0);
}

/** Replaces every occurrence of each secret (longest first) with ***. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s.length < 3) continue; // masking "ab" everywhere would shred the text and hide nothing
    out = out.split(s).join('***');
  }
  return out;
}
