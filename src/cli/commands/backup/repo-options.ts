import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { type Backend, openBackend, Repository, withRetries } from '../../../backup/index.js';
import { BulwarkError } from '../../../core/errors.js';
import { secretRegistry } from '../../../core/secrets.js';
import { parseDuration, parseSize } from '../../../core/units.js';

export interface RepoOptions {
  repo?: string;
  repository?: string;
  config?: string;
  passwordFile?: string;
  json?: boolean;
  quiet?: boolean;
  waitLock?: string;
}

export const PASSWORD_ENV = 'BULWARK_BACKUP_PASSWORD';

/** The options every repository command shares. */
export function addRepoOptions(command: Command, prefix = ''): Command {
  const flag = prefix ? `--${prefix}-` : '--';
  return command
    .option(`${prefix ? flag + 'repo' : '-r, --repo'} <location>`, 'repository: a directory, s3:https://host/bucket/prefix or sftp:user@host:port/path')
    .option(`${flag}repository <name>`, 'a repository named in bulwark.yaml (backups.repositories), with -c')
    .option(`${flag}password-file <file>`, `file holding the repository password (else $${PASSWORD_ENV}, else the password in bulwark.yaml)`);
}

export function addCommonOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'bulwark.yaml, for --repository and --policy')
    .option('--json', 'print the result as JSON')
    .option('-q, --quiet', 'no progress output')
    .option('--wait-lock <duration>', 'how long to wait for a conflicting lock, e.g. 5m', '0s');
}

export function waitLockMs(options: RepoOptions): number {
  return durationOption('--wait-lock', options.waitLock ?? '0s');
}

export function durationOption(flag: string, text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new BulwarkError('USAGE', `${flag} "${text}" is not ${parsed.expected}`, { hint: `e.g. ${flag} 5m` });
  return parsed.value;
}

export interface ResolvedRepo { backend: Backend; password: string; label: string }

export async function resolveRepo(options: RepoOptions, prefix = ''): Promise<ResolvedRepo> {
  const pick = <K extends 'repo' | 'repository' | 'passwordFile'>(key: K): RepoOptions[K] =>
    (prefix ? (options as Record<string, unknown>)[prefix + key[0]!.toUpperCase() + key.slice(1)] : options[key]) as RepoOptions[K];
  const location = pick('repo');
  const name = pick('repository');
  if (!location && !name) throw new BulwarkError('USAGE', `no repository given${prefix ? ` for --${prefix}` : ''}`, { hint: `pass ${prefix ? `--${prefix}-repo` : '-r'} DIR (or s3:/sftp: URL), or -c bulwark.yaml ${prefix ? `--${prefix}-repository` : '--repository'} NAME` });
  let configPassword: string | undefined;
  let backend: Backend;
  if (name) {
    if (!options.config) throw new BulwarkError('USAGE', `--repository ${name} needs -c bulwark.yaml`, { hint: 'or give the location itself with -r' });
    // The configuration (zod, yaml, lint rules) loads only when a repository is named from it.
    const { loadValidConfig } = await import('../../../config/index.js');
    const { config } = await loadValidConfig(options.config);
    const spec = config.backups?.repositories[name];
    if (!spec) throw new BulwarkError('USAGE', `bulwark.yaml has no repository "${name}"`, { hint: `known: ${Object.keys(config.backups?.repositories ?? {}).join(', ') || 'none'}` });
    configPassword = spec.password;
    backend = openBackend(spec);
  } else {
    backend = openBackend(location!);
  }
  const password = await readPassword(pick('passwordFile'), configPassword);
  return { backend: withRetries(backend, { attempts: 5, baseDelayMs: 500, maxDelayMs: 10_000 }), password, label: name ?? backend.location };
}

async function readPassword(file: string | undefined, fromConfig: string | undefined): Promise<string> {
  let password: string | undefined;
  if (file) {
    try {
      password = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new BulwarkError('USAGE', `cannot read the password file ${file}: ${(err as Error).message}`, { hint: 'check the path and its permissions' });
    }
  }
  password ??= process.env[PASSWORD_ENV] ?? fromConfig;
  if (!password) throw new BulwarkError('USAGE', 'no repository password', { hint: `set $${PASSWORD_ENV}, pass --password-file FILE, or set password in bulwark.yaml (as \${env:...} or \${file:...})` });
  secretRegistry.add(password);
  return password;
}

export async function openRepo(options: RepoOptions, prefix = ''): Promise<Repository> {
  const { backend, password } = await resolveRepo(options, prefix);
  return track(await Repository.open(backend, password));
}

const opened = new Set<Repository>();

/** Remembers a repository so the command's postAction hook closes it: an SFTP session would keep the process alive. */
export function track(repo: Repository): Repository {
  opened.add(repo);
  return repo;
}

export async function closeTrackedRepos(): Promise<void> {
  await Promise.all([...opened].map((repo) => repo.close().catch(() => undefined)));
  opened.clear();
}

export function sizeOption(flag: string, text: string): number {
  const parsed = parseSize(text);
  if (!parsed.ok || parsed.value < 1024) throw new BulwarkError('USAGE', `${flag} "${text}" is not a size of at least 1KiB`, { hint: `e.g. ${flag} 16MiB` });
  return parsed.value;
}
