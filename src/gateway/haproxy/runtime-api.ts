import { createConnection } from 'node:net';
import { BulwarkError } from '../../core/errors.js';

/**
 * One command on an HAProxy UNIX socket (the stats socket's runtime API, or the
 * master CLI): sent in non-interactive mode, so HAProxy answers and closes.
 * Several commands may be joined with ";".
 */
export function haproxyCommand(socket: string, command: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => conn.destroy(new BulwarkError('BACKEND_UNAVAILABLE', `HAProxy did not answer "${command.split(' ')[0] ?? command}" on ${socket} within ${timeoutMs} ms`)), timeoutMs);
    conn.on('connect', () => conn.end(`${command}\n`));
    conn.on('data', (chunk: Buffer) => chunks.push(chunk));
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.on('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** A runtime API answer that is an error message rather than the empty success of `set server`. */
export function runtimeError(answer: string): string | undefined {
  const text = answer.trim();
  if (text === '') return undefined;
  return /^(No such|Unknown|Require|Invalid|Backend is|Server is|.*not found|.*error)/im.test(text) ? text : undefined;
}
