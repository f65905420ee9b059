import type { Command } from 'commander';
import { registerInit } from './init.js';
import { registerStatus } from './status.js';
import { registerFailover, registerSwitchover } from './switchover.js';

export function registerDb(program: Command): void {
  const db = program.command('db').description('PostgreSQL high availability: status, switchover, manual failover, init');
  registerStatus(db);
  registerSwitchover(db);
  registerFailover(db);
  registerInit(db);
}
