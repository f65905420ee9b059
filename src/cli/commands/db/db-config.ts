import type { Command } from 'commander';
import { loadValidConfig, parseDuration } from '../../../config/index.js';
import { BulwarkError } from '../../../core/errors.js';
import { localRuntime, openDb as openDatabase, type DbTarget } from '../../../postgres-ha/index.js';

export type { DbTarget };
export { localRuntime };

export interface DbOptions {
  config: string;
  json?: boolean;
  /** `db init --node`: which members this host runs (as `bulwark up --node`). */
  node?: string;
}

export function addDbOptions(command: Command, json = true): Command {
  command.requiredOption('-c, --config <file>', 'configuration file (bulwark.yaml)');
  return json ? command.option('--json', 'print the result as JSON') : command;
}

/** The database NAME of bulwark.yaml (-c FILE), built by postgres-ha as `bulwark up` builds it (src/postgres-ha/operator.ts). */
export async function openDb(options: DbOptions, name: string): Promise<DbTarget> {
  const { config } = await loadValidConfig(options.config);
  return openDatabase(config, name, options.node);
}

export function requireMember(target: DbTarget, member: string, flag: string): void {
  if (!target.members.some((m) => m.name === member)) {
    throw new BulwarkError('USAGE', `${flag} ${member}: database ${target.name} has no member "${member}"`, { hint: `members: ${target.members.map((m) => m.name).join(', ')}` });
  }
}

export function durationOption(flag: string, text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok || parsed.value <= 0) throw new BulwarkError('USAGE', `${flag} "${text}" is not a duration`, { hint: `e.g. ${flag} 30s` });
  return parsed.value;
}
