import { BulwarkError, errnoCode } from '../../core/errors.js';
import { diskFull, isAbortError, isTransientNetworkError, notFound, unavailable } from './errors.js';
import type { FileKind } from './types.js';

/** What a failed call was about, for the message. */
export interface Target {
  path: string;
  kind?: FileKind;
  name?: string;
}

export interface SftpErrorContext {
  location: string;
  /** `user@host:port` */
  server: string;
  user: string;
}

const SSH_FX_NO_SUCH_FILE = 2;
const SSH_FX_PERMISSION_DENIED = 3;
const DROPPED = /No SFTP connection|Unexpected (end|close)|Not connected|No response from server|Timed out while waiting for handshake|socket|ECONNRESET/i;

/**
 * ssh2 and ssh2-sftp-client errors as BulwarkErrors. SFTP servers report a full
 * disk as a bare "Failure": DISK_FULL is only recognised when the message says so.
 */
export function mapSftpError(err: unknown, target: Target, context: SftpErrorContext): Error {
  if (err instanceof BulwarkError || isAbortError(err)) return err as Error;
  const message = err instanceof Error ? err.message : String(err);
  const { server } = context;
  if (isMissing(err)) {
    if (target.kind && target.name) return notFound(context.location, target.kind, target.name, err);
    return new BulwarkError('NOT_FOUND', `${target.path} does not exist on ${server}`, { hint: 'check the repository path, or create the repository first', cause: err });
  }
  if (/no space left|quota exceeded/i.test(message)) return diskFull(context.location, err);
  if (sftpCode(err) === SSH_FX_PERMISSION_DENIED || errnoCode(err) === 'EACCES') {
    return unavailable(`permission denied on ${target.path} at ${server}`, `make the folder writable by ${context.user} on the server`, { cause: err, transient: false });
  }
  if (/authentication methods failed|ERR_BAD_AUTH/i.test(`${message} ${errnoCode(err)}`)) {
    return unavailable(`SSH login to ${server} was refused`, "check the private key or password, and that the key is in the server's authorized_keys", { cause: err, transient: false });
  }
  if (/Host denied/i.test(message)) {
    return unavailable(`the SSH host key of ${server} does not match the configured fingerprint`, 'if the server was reinstalled, verify its new key out of band and update the fingerprint', {
      cause: err,
      transient: false,
    });
  }
  const transient = isConnectionError(err);
  const what = transient ? `cannot reach SFTP server ${server}` : `SFTP operation on ${target.path} at ${server} failed`;
  return unavailable(`${what}: ${message}`, `check that the SSH server at ${server.slice(server.indexOf('@') + 1)} is up and reachable`, { cause: err, transient });
}

function sftpCode(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

export function isMissing(err: unknown): boolean {
  const code = sftpCode(err);
  return code === SSH_FX_NO_SUCH_FILE || code === 'ENOENT' || (err instanceof Error && /No such file/i.test(err.message));
}

/** The connection is gone or never came up: worth reconnecting and retrying. */
export function isConnectionError(err: unknown): boolean {
  return isTransientNetworkError(err) || (err instanceof Error && DROPPED.test(err.message));
}
