/**
 * Quoting for the three languages values pass through on their way to
 * PostgreSQL (SQL literals, conninfo, postgresql.conf). No import of the pg
 * library: the WAL archive_command path quotes once per WAL file.
 */
import { BulwarkError } from './errors.js';

/** A string literal for SQL text where parameters cannot go (ALTER SYSTEM). */
export function sqlLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A conninfo value: single quotes and backslashes escaped, always quoted. */
export function conninfoValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * A string value for postgresql.conf / postgresql.auto.conf: single quotes
 * doubled, backslashes escaped, always quoted. A line break or NUL cannot be
 * written there: a USAGE error whose hint is `hint`.
 */
export function confValue(value: string, hint = 'remove line breaks from the value'): string {
  if (/[\n\r\0]/.test(value)) throw new BulwarkError('USAGE', 'a postgresql.conf setting cannot contain a line break or NUL character', { hint });
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}
