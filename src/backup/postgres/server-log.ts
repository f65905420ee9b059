/** What a recovering server prints, and the errors its FATAL lines become. */
import { BulwarkError } from '../../core/errors.js';

const MAX_TEXT = 256 * 1024;
const SEVERITY = /\b(FATAL|PANIC|LOG|DETAIL|HINT|ERROR|WARNING):\s+(.*)$/;

export class ServerLog {
  private buffer = '';
  private pending = '';
  private readonly important: string[] = [];
  private ready = false;
  /** The last line a child command (restore_command) printed, and what it was when the first FATAL came. */
  private commandOutput: string | undefined;
  private outputBeforeFatal: string | undefined;

  append(chunk: Buffer): void {
    const lines = (this.pending + chunk.toString()).split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.keep(line);
  }

  private keep(line: string): void {
    this.buffer = (this.buffer + line + '\n').slice(-MAX_TEXT);
    if (/ready to accept/.test(line)) this.ready = true;
    if (/client backend/.test(line)) return;
    if (!SEVERITY.test(line) && !line.startsWith('\t') && line.trim()) this.commandOutput = line.trim();
    if (/\b(FATAL|PANIC):/.test(line) && !this.important.some((l) => /\b(FATAL|PANIC):/.test(l))) this.outputBeforeFatal = this.commandOutput;
    // Kept apart from the rolling buffer: a long replay must not push out why recovery ended.
    if (/\b(FATAL|PANIC):|recovery stopping|redo done at|consistent recovery state/.test(line)) this.important.push(line);
    else if (/\bDETAIL:/.test(line) && this.important.length > 0) this.important.push(line);
  }

  /** Whether the server said it is ready to accept (read-only) connections. */
  acceptsConnections(): boolean {
    return this.ready;
  }

  text(): string {
    return this.buffer + this.pending;
  }

  lastLine(): string {
    const lines = this.text().trimEnd().split('\n');
    return message(lines[lines.length - 1] ?? '') || '(nothing)';
  }

  /**
   * The first FATAL or PANIC message, with the DETAIL lines that follow it
   * (not its HINT: PostgreSQL's advice about backup_label and recovery.signal misleads here).
   */
  fatal(): { message: string; detail: string[]; commandOutput: string | undefined } | undefined {
    const at = this.important.findIndex((line) => /\b(FATAL|PANIC):/.test(line));
    if (at < 0) return undefined;
    const detail: string[] = [];
    for (const line of this.important.slice(at + 1)) {
      if (!/\bDETAIL:/.test(line)) break;
      detail.push(message(line));
    }
    return { message: message(this.important[at] ?? ''), detail, commandOutput: this.outputBeforeFatal };
  }

  /** Where replay ended, in the server's words. */
  stopMessage(): string | undefined {
    const stop = this.important.find((line) => /recovery stopping/.test(line)) ?? this.important.find((line) => /redo done at/.test(line));
    return stop === undefined ? undefined : message(stop);
  }
}

function message(line: string): string {
  return SEVERITY.exec(line)?.[2]?.trim() ?? line.trim();
}

const MISSING_WAL = /could not locate required checkpoint record|WAL ends before|recovery ended before configured recovery target|could not find redo location|not a child of this server's history|could not locate a valid checkpoint record/;

/** The error for a server that exited during recovery, quoting its FATAL line. */
export function recoveryFailed(log: ServerLog): BulwarkError {
  const fatal = log.fatal();
  if (!fatal) {
    return new BulwarkError('INTERNAL', `PostgreSQL exited during recovery without a FATAL message; it last said: ${log.lastLine()}`, {
      hint: 'see the server log for the cause',
      context: { log: log.text().slice(-4096) },
    });
  }
  const detail = fatal.detail.length > 0 ? ` (${fatal.detail.join(' ')})` : '';
  const text = `PostgreSQL recovery failed: ${fatal.message}${detail}`;
  const context = { fatal: fatal.message, log: log.text().slice(-4096) };
  if (/before consistent recovery point/.test(fatal.message)) {
    return new BulwarkError('USAGE', text, {
      hint: 'the recovery target is earlier than the end of the base backup: choose a later target, or restore an older base backup',
      context,
    });
  }
  if (/could not restore file/.test(fatal.message)) {
    return new BulwarkError('BACKEND_UNAVAILABLE', `${text}; restore_command said: ${fatal.commandOutput ?? '(nothing)'}`, {
      hint: 'recovery was stopped rather than ended early: make the WAL archive readable by the PostgreSQL user and restore again',
      context: { ...context, transient: false },
    });
  }
  if (MISSING_WAL.test(fatal.message)) {
    return new BulwarkError('NOT_FOUND', text, {
      hint: 'the WAL archive lacks segments recovery needs: check that archive_command archived everything since the backup '
        + '(a missing segment ends recovery early), or choose an earlier target',
      context,
    });
  }
  return new BulwarkError('INTERNAL', text, { hint: 'see the PostgreSQL server log for the cause', context });
}
