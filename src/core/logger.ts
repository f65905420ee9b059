import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';
import { secretRegistry } from './secrets.js';

export type { Logger };
export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level?: LevelWithSilent;
  format?: LogFormat;
  /** Where to write; defaults to stderr so stdout stays clean for `--json` output. */
  destination?: DestinationStream;
}

/** Keys that never reach a log line, at any depth we know of. */
const REDACT_PATHS = [
  'password', '*.password', 'token', '*.token', 'secret', '*.secret',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
];

/**
 * The root logger. Besides key-based redaction, every written line is scrubbed
 * of the values that came from `${env:...}`/`${file:...}` references, so a
 * secret that slips into a message string is still not written.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  const stream = options.format === 'pretty' ? prettyStream(destination) : destination;
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: (line) => secretRegistry.scrub(line) },
    },
    stream,
  );
}

function prettyStream(destination: DestinationStream): DestinationStream {
  return pretty({ destination, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
}

/** A logger that writes nothing: for tests and for library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
