import { BulwarkError } from '../../core/errors.js';
import { FILE_KINDS, type ByteRange, type FileKind } from './types.js';

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const MAX_NAME_LENGTH = 255;
export const TEMP_PREFIX = '.tmp-';

export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME.test(name);
}

/** Rejects names that could escape the repository (`..`, `/`, leading dots) before any path is built. */
export function checkName(kind: FileKind, name: string): void {
  checkKind(kind);
  if (kind === 'config' && name !== 'config') {
    throw new BulwarkError('USAGE', `a repository has one config file, named "config", not "${name}"`, { hint: 'write the config as name "config"' });
  }
  if (!isValidName(name)) {
    throw new BulwarkError('USAGE', `invalid repository file name ${JSON.stringify(name.slice(0, 80))}`, {
      hint: 'names use only A-Z a-z 0-9 . _ - (at most 255), and do not start with a dot',
    });
  }
}

export function checkKind(kind: FileKind): void {
  if (!FILE_KINDS.includes(kind)) {
    throw new BulwarkError('USAGE', `unknown repository file kind "${String(kind)}"`, { hint: `use one of: ${FILE_KINDS.join(', ')}` });
  }
}

export function checkRange(range: ByteRange | undefined): void {
  if (range === undefined) return;
  const ok = Number.isSafeInteger(range.offset) && Number.isSafeInteger(range.length) && range.offset >= 0 && range.length >= 0;
  if (!ok) {
    throw new BulwarkError('USAGE', `invalid byte range offset=${range.offset} length=${range.length}`, {
      hint: 'offset and length are whole numbers, 0 or more',
    });
  }
}

/**
 * Path segments of a file below the repository root, shared by the local and
 * SFTP layouts: `config`, `data/<first 2 chars>/<name>`, `<kind>/<name>`.
 */
export function layoutPath(kind: FileKind, name: string): string[] {
  if (kind === 'config') return ['config'];
  if (kind === 'data') return ['data', name.slice(0, 2), name];
  return [kind, name];
}

/** Folders `create()` makes: every kind but config (a file at the root). Data shards are made on first write. */
export const KIND_DIRS: readonly FileKind[] = FILE_KINDS.filter((kind) => kind !== 'config');

export function tempName(random: string): string {
  return `${TEMP_PREFIX}${random}`;
}
