/**
 * The value of cookie `name` in a request's Cookie header (RFC 6265 §5.4: pairs joined
 * by "; "). The first occurrence wins, as browsers send the most specific path first.
 */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  const joined = Array.isArray(header) ? header.join('; ') : header;
  if (!joined) return undefined;
  for (const pair of joined.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    const value = pair.slice(eq + 1).trim();
    const unquoted = value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
    return unquoted === '' ? undefined : unquoted;
  }
  return undefined;
}

/** A session cookie for the gateway's own use: not readable by scripts, sent on top-level navigation. */
export function sessionCookie(name: string, value: string): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax`;
}
