#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isBulwarkError, errorMessage, type ErrorCode } from '../core/errors.js';
import { EXIT } from './exit-codes.js';
import { printError } from './output.js';
import { registerCheck } from './commands/check.js';
import { registerPlan } from './commands/plan.js';
import { registerStatus } from './commands/status.js';
import { registerToken } from './commands/token.js';
import { registerUp } from './commands/up.js';
import { registerAgent } from './commands/agent.js';
import { registerGateway } from './commands/gateway.js';
import { registerDemo } from './commands/demo.js';
import { registerBackup, registerRestore } from './commands/backup/index.js';
import { version } from './version.js';

export function buildProgram(): Command {
  const program = new Command('bulwark')
    .description('High availability and disaster recovery as code: one bulwark.yaml, one daemon that keeps and proves its promises.')
    .version(version(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride();
  registerCheck(program);
  registerPlan(program);
  registerUp(program);
  registerStatus(program);
  registerToken(program);
  registerAgent(program);
  registerGateway(program);
  registerDemo(program);
  registerBackup(program);
  registerRestore(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = handleError(err);
  }
}

/** Errors that mean "could not even start": bad input, or nothing to talk to. */
const UNUSABLE_INPUT = new Set<ErrorCode>(['CONFIG_UNREADABLE', 'CONFIG_SYNTAX', 'USAGE', 'API_UNREACHABLE', 'AUTH_INVALID', 'AUTH_REQUIRED', 'REPO_NOT_FOUND', 'REPO_WRONG_PASSWORD']);

function handleError(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version end through here with exit code 0.
    return err.exitCode === 0 ? EXIT.ok : EXIT.unusable;
  }
  if (isBulwarkError(err)) {
    printError(`error: ${err.describe()}`);
    return UNUSABLE_INPUT.has(err.code) ? EXIT.unusable : EXIT.findings;
  }
  printError(`error: ${errorMessage(err)}`);
  return EXIT.findings;
}

await main(process.argv);
