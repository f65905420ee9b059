import { openBackend, withRetries } from '../backend/index.js';
import { BulwarkError } from '../../core/errors.js';
import type { BulwarkConfig } from '../../config/index.js';
import { Repository } from '../repo/repository.js';

export type BackupsConfig = NonNullable<BulwarkConfig['backups']>;
export type PolicyConfig = BackupsConfig['policies'][string];

/**
 * Opens a repository named in bulwark.yaml, creating it when the location is
 * empty: the configuration is the declaration. A copy is created sharing the
 * primary's content key, so copying moves only missing data.
 */
export async function openConfiguredRepo(backups: BackupsConfig, name: string, options: { create?: boolean; copyFrom?: Repository; signal?: AbortSignal } = {}): Promise<Repository> {
  const spec = backups.repositories[name];
  if (!spec) throw new BulwarkError('CONFIG_INVALID', `backups.repositories has no "${name}"`, { hint: `known: ${Object.keys(backups.repositories).join(', ') || 'none'}` });
  const password = spec.password ?? process.env.BULWARK_BACKUP_PASSWORD;
  if (!password) throw new BulwarkError('CONFIG_INVALID', `repository "${name}" has no password`, { hint: 'set backups.repositories.' + name + '.password (e.g. "${file:/etc/bulwark/backup.pass}") or $BULWARK_BACKUP_PASSWORD' });
  const backend = withRetries(openBackend(spec), { attempts: 5, baseDelayMs: 500, maxDelayMs: 10_000, signal: options.signal });
  try {
    return await Repository.open(backend, password, options.signal);
  } catch (err) {
    if (!(err instanceof BulwarkError && err.code === 'REPO_NOT_FOUND' && options.create !== false)) throw err;
    return Repository.init(backend, password, { copyFrom: options.copyFrom, signal: options.signal });
  }
}
