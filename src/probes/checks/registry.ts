import type { CheckType } from '../types.js';
import { commandCheck, type CommandCheckSpec } from './command.js';
import { httpCheck, type HttpCheckSpec } from './http.js';
import { tcpCheck, type TcpCheckSpec } from './tcp.js';
import { postgresCheck, type PostgresCheckSpec } from './postgres.js';
import { redisCheck, type RedisCheckSpec } from './redis.js';

/**
 * Spec type per check type name. A new check type adds itself by augmentation:
 *
 *   declare module './registry.js' { interface CheckSpecs { postgres: PostgresCheckSpec } }
 *   registerCheckType('postgres', postgresCheck);
 */
export interface CheckSpecs {
  http: HttpCheckSpec;
  tcp: TcpCheckSpec;
  command: CommandCheckSpec;
  postgres: PostgresCheckSpec;
  redis: RedisCheckSpec;
}

export type CheckTypeName = keyof CheckSpecs;

const registry = new Map<string, CheckType<never>>();

export function registerCheckType<K extends CheckTypeName>(name: K, checkType: CheckType<CheckSpecs[K]>): void {
  if (checkType.type !== name) {
    throw new Error(`check type "${checkType.type}" registered under the name "${name}"; the names must match`);
  }
  if (registry.has(name)) throw new Error(`check type "${name}" is already registered`);
  registry.set(name, checkType as CheckType<never>);
}

export function getCheckType<K extends CheckTypeName>(name: K): CheckType<CheckSpecs[K]> | undefined;
export function getCheckType(name: string): CheckType<unknown> | undefined;
export function getCheckType(name: string): CheckType<unknown> | undefined {
  return registry.get(name) as CheckType<unknown> | undefined;
}

export function checkTypeNames(): string[] {
  return [...registry.keys()].sort();
}

registerCheckType('http', httpCheck);
registerCheckType('tcp', tcpCheck);
registerCheckType('command', commandCheck);
registerCheckType('postgres', postgresCheck);
registerCheckType('redis', redisCheck);
