#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isBulwarkError, errorMessage, type ErrorCode } from '../core/errors.js';
import { EXIT } from './exit-codes.js';
import { printError } from './output.js';
import { version } from './version.js';

type Register = (program: Command) => void;

/**
 * Each command's module loads only when it runs: `bulwark backup wal archive`
 * runs once per WAL file and `bulwark backup run` on every schedule, and
 * loading the daemon, the gateway and the S3 client for them cost a third of a
 * second and 40 MiB. `--help`, a typo or no command load them all.
 */
const COMMANDS: Record<string, () => Promise<Register[]>> = {
  check: async () => [(await import('./commands/check.js')).registerCheck],
  plan: async () => [(await import('./commands/plan.js')).registerPlan],
  up: async () => [(await import('./commands/up.js')).registerUp],
  status: async () => [(await import('./commands/status.js')).registerStatus],
  token: async () => [(await import('./commands/token.js')).registerToken],
  config: async () => [(await import('./commands/config.js')).registerConfig],
  agent: async () => [(await import('./commands/agent.js')).registerAgent],
  gateway: async () => [(await import('./commands/gateway.js')).registerGateway],
  demo: async () => [(await import('./commands/demo.js')).registerDemo],
  backup: async () => [(await import('./commands/backup/index.js')).registerBackup],
  restore: async () => [(await import('./commands/backup/index.js')).registerRestore],
  db: async () => [(await import('./commands/db/index.js')).registerDb],
  redis: async () => [(await import('./commands/redis.js')).registerRedis],
  cluster: async () => [(await import('./commands/cluster.js')).registerCluster],
  incident: async () => [(await import('./commands/incident.js')).registerIncident],
  silence: async () => [(await import('./commands/silence.js')).registerSilence],
  template: async () => [(await import('./commands/template.js')).registerTemplate],
  drill: async () => [(await import('./commands/drill.js')).registerDrill],
  runbook: async () => [(await import('./commands/runbook.js')).registerRunbook],
};

export async function buildProgram(argv: string[] = process.argv): Promise<Command> {
  const program = new Command('bulwark')
    .description('High availability and disaster recovery as code: one bulwark.yaml, one daemon that keeps and proves its promises.')
    .version(version(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride();
  const name = argv[2];
  const wanted = name !== undefined && Object.hasOwn(COMMANDS, name) ? [name] : Object.keys(COMMANDS);
  for (const key of wanted) for (const register of await COMMANDS[key]!()) register(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(withoutHelpForUnknownCommand(program, argv));
  } catch (err) {
    process.exitCode = handleError(err);
  }
}

/**
 * commander answers `bulwark nosuch --help` with the top-level help and exit 0,
 * and `bulwark help nosuch` with it and no suggestion: a typo in a script
 * would pass. Parsing just the unknown name makes commander report it, with
 * its did-you-mean, like `bulwark nosuch`.
 */
function withoutHelpForUnknownCommand(program: Command, argv: string[]): string[] {
  const operands = argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const name = operands[0] === 'help' ? operands[1] : operands[0];
  if (name === undefined || isCommandName(program, name)) return argv;
  return [...argv.slice(0, 2), name];
}

function isCommandName(program: Command, name: string): boolean {
  return name === 'help' || program.commands.some((command) => command.name() === name || command.aliases().includes(name));
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
