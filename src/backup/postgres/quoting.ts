/** Quoting for the two languages a restore/archive command passes through: /bin/sh and postgresql.conf. */
import { confValue } from '../../core/pg-quote.js';

const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One word for /bin/sh: left bare when safe, else single-quoted. */
export function shellQuote(word: string): string {
  if (SHELL_SAFE.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * A word of archive_command/restore_command: shell-quoted, and `%` doubled
 * because PostgreSQL replaces `%p`, `%f`, `%r` and `%%` before the shell runs.
 */
export function commandWord(word: string): string {
  return shellQuote(word).replace(/%/g, '%%');
}

/** A string value for postgresql.conf (core/pg.ts's confValue), its hint about commands and paths. */
export function confString(value: string): string {
  return confValue(value, 'remove line breaks from the command or path');
}
