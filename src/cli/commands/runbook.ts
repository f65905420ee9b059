import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { didYouMean, loadValidConfig, type BulwarkConfig, type RunbookConfig } from '../../config/index.js';
import { BulwarkError } from '../../core/errors.js';
import { generateRunbooks, httpAdminApi, listRuns, planRunbook, runRunbook, type AdminApi, type RunbookRun, type StepRecord } from '../../runbooks/index.js';
import { resolveApi } from '../api-client.js';
import { addDataDirOption } from '../common.js';
import { EXIT } from '../exit-codes.js';
import { print, printError, printJSON } from '../output.js';
import { operatorHooks } from './runbook-prompt.js';

export interface RunbookOptions {
  config: string;
  dataDir: string;
  url?: string;
  token?: string;
  incident?: string;
  confirm: string[];
  yes?: boolean;
  json?: boolean;
  dryRun?: boolean;
}

const RUN_HELP = `
Manual steps ask in a terminal; in a script each must be confirmed beforehand with
--confirm STEP (repeatable) or --yes (all of them), else the step fails. A failed
automated step asks retry, skip or abort in a terminal; in a script the run stops there.
The timeline goes onto the incident (--incident ID, else the only open one, else the one a
declare step opens) as notes, and always into <data dir>/runbooks/runs/<run>.json.

Exit codes: 0 every step done, 1 a step failed or the run was aborted, 2 bad input (unknown
runbook or step, no token for a step that needs the API, the daemon unreachable).

Examples:
  bulwark runbook run region-loss -c bulwark.yaml --dry-run
  bulwark runbook run region-loss -c bulwark.yaml --incident 42
  BULWARK_TOKEN=... bulwark runbook run region-loss -c bulwark.yaml --confirm confirm-disaster --yes --json`;

export function registerRunbook(program: Command): void {
  const runbook = program.command('runbook').description('runbooks as code: list them, walk through one step by step, generate a starting point from the topology');
  addDataDirOption(runbook.command('ls'))
    .description('the runbooks of bulwark.yaml with their steps, and each one\'s last run')
    .requiredOption('-c, --config <file>', 'configuration file')
    .option('--json', 'print as JSON')
    .action((options: RunbookOptions) => listRunbooks(options));
  addDataDirOption(runbook.command('run'))
    .description('walk through a runbook: automated steps run, manual steps are confirmed, each with its time')
    .argument('<name>', 'a runbook under runbooks:')
    .requiredOption('-c, --config <file>', 'configuration file')
    .option('--url <url>', 'API of the running daemon (default: $BULWARK_URL, api.listen of -c)')
    .option('--token <token>', 'API token (default: $BULWARK_TOKEN); needed by api and declare steps and for the incident timeline')
    .option('--incident <id>', 'the incident to record the timeline on (default: the only open one)')
    .option('--confirm <step>', 'confirm this manual step beforehand (repeatable)', (value: string, all: string[]) => [...all, value], [])
    .option('--yes', 'confirm every manual step beforehand')
    .option('--dry-run', 'print every step and what it would do; run nothing')
    .option('--json', 'print the run (or the plan) as JSON')
    .addHelpText('after', RUN_HELP)
    .action((name: string, options: RunbookOptions) => runCommand(name, options));
  runbook.command('generate')
    .description('write a starting-point runbooks: section: seed 000\'s DR phases (detection, assessment, declaration, execution, validation, communication) from the topology')
    .requiredOption('-c, --config <file>', 'configuration file')
    .option('-o, --output <file>', 'write here instead of standard output')
    .option('--name <name>', 'the runbook\'s name', 'disaster-recovery')
    .option('--force', 'overwrite --output if it exists')
    .action((options: { config: string; output?: string; name: string; force?: boolean }) => generate(options));
}

async function listRunbooks(options: RunbookOptions): Promise<void> {
  const { config } = await loadValidConfig(options.config);
  const rows = await Promise.all(Object.entries(config.runbooks).map(async ([name, book]) => ({
    name, description: book.description ?? null, steps: planRunbook(book), last: (await listRuns(resolve(options.dataDir), name))[0] ?? null,
  })));
  if (options.json) return printJSON({ runbooks: rows.map((r) => ({ ...r, last: r.last && { id: r.last.id, outcome: r.last.outcome, startedAt: r.last.startedAt, incidentId: r.last.incidentId } })) });
  if (rows.length === 0) return print('no runbooks: add a runbooks: section (bulwark runbook generate -c FILE writes a starting point)');
  for (const row of rows) {
    const last = row.last ? `last run ${new Date(row.last.startedAt).toISOString()} ${row.last.outcome ?? 'unfinished'}` : 'never run';
    print(`${row.name}  ${row.steps.length} steps  ${last}${row.description ? `\n  ${row.description}` : ''}`);
    row.steps.forEach((s, i) => print(`  ${String(i + 1).padStart(2)}. ${s.name.padEnd(28)} ${s.kind.padEnd(7)} ${s.phase ?? ''}`));
  }
}

function runbookNamed(config: BulwarkConfig, name: string): RunbookConfig {
  const book = config.runbooks[name];
  if (book) return book;
  const names = Object.keys(config.runbooks);
  const match = didYouMean(name, names);
  throw new BulwarkError('USAGE', `no runbook "${name}" under runbooks:`, {
    hint: match !== undefined ? `did you mean "${match}"?` : names.length ? `one of: ${names.join(', ')}` : 'add one under runbooks: (bulwark runbook generate writes a starting point)',
  });
}

async function runCommand(name: string, options: RunbookOptions): Promise<void> {
  const configPath = resolve(options.config);
  const { config } = await loadValidConfig(configPath);
  const book = runbookNamed(config, name);
  const unknown = options.confirm.find((step) => !book.steps.some((s) => s.name === step && s.manual !== undefined));
  if (unknown !== undefined) {
    throw new BulwarkError('USAGE', `--confirm ${unknown}: runbook ${name} has no manual step of that name`, { hint: `its manual steps: ${book.steps.filter((s) => s.manual).map((s) => s.name).join(', ') || 'none'}` });
  }
  if (options.dryRun) return printPlan(name, book, options);
  const api = await apiFor(book, options);
  const incidentId = await incidentFor(api, options);
  const interrupt = new AbortController();
  const stop = (): void => interrupt.abort();
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    const dataDir = resolve(options.dataDir);
    if (!options.json) print(`runbook ${name}: ${book.steps.length} steps${incidentId !== null ? `, timeline on incident ${incidentId}` : ''}`);
    const hooks = operatorHooks({ ...options, runDrill: (drill, signal, timeoutMs) => runDrill(drill, configPath, dataDir, signal, timeoutMs), onStep: options.json ? undefined : printStep });
    const run = await runRunbook({ name, runbook: book, dataDir, ...(api ? { api } : {}), hooks, incidentId, signal: interrupt.signal });
    if (options.json) printJSON(run);
    else printSummary(run, dataDir);
    process.exitCode = run.outcome === 'completed' ? EXIT.ok : EXIT.findings;
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
}

function printPlan(name: string, book: RunbookConfig, options: RunbookOptions): void {
  const steps = planRunbook(book);
  if (options.json) return printJSON({ runbook: name, dryRun: true, steps });
  print(`runbook ${name}, dry run: nothing runs`);
  steps.forEach((s, i) => print(`${String(i + 1).padStart(2)}. ${s.name} (${s.kind}${s.phase ? `, ${s.phase}` : ''}): ${s.does}`));
}

/** The API when a token is at hand; required when a step calls it. */
async function apiFor(book: RunbookConfig, options: RunbookOptions): Promise<AdminApi | undefined> {
  const needs = book.steps.find((s) => s.api !== undefined || s.declare !== undefined);
  if ((options.token ?? process.env.BULWARK_TOKEN) === undefined) {
    if (needs) throw new BulwarkError('USAGE', `step ${needs.name} calls the daemon's API, and there is no token`, { hint: 'pass --token or set BULWARK_TOKEN; create one with: bulwark token create --name NAME' });
    if (options.incident !== undefined) throw new BulwarkError('USAGE', '--incident needs the daemon\'s API, and there is no token', { hint: 'pass --token or set BULWARK_TOKEN' });
    return undefined;
  }
  return httpAdminApi(await resolveApi(options));
}

/** --incident (which must exist and be open), else the only open incident, else none. */
async function incidentFor(api: AdminApi | undefined, options: RunbookOptions): Promise<number | null> {
  if (!api) return null;
  if (options.incident !== undefined) {
    const id = /^[1-9]\d{0,14}$/.test(options.incident) ? Number(options.incident) : NaN;
    if (!Number.isSafeInteger(id)) throw new BulwarkError('USAGE', `--incident must be a positive whole number, got "${options.incident}"`);
    const answer = await api.call('GET', `/api/v1/incidents/${id}`).catch(unreachable);
    if (answer.status === 404) throw new BulwarkError('USAGE', `no incident ${id}`, { hint: 'list open incidents with: bulwark incident ls' });
    if (answer.status >= 300) throw new BulwarkError('USAGE', `the daemon answered ${answer.status} for incident ${id}`, { hint: 'check --token and --url' });
    return id;
  }
  const answer = await api.call('GET', '/api/v1/incidents?state=triggered,acknowledged&limit=2').catch(unreachable);
  if (answer.status >= 300) throw new BulwarkError(answer.status === 401 ? 'AUTH_INVALID' : 'USAGE', `the daemon answered ${answer.status} for the open incidents`, { hint: 'check --token and --url' });
  const open = (answer.body as { incidents?: Array<{ id: number }> }).incidents ?? [];
  if (open.length > 1 && !options.json) printError('several incidents are open: pass --incident ID to record the timeline on one (a declare step opens its own otherwise)');
  return open.length === 1 ? open[0]!.id : null;
}

function unreachable(err: unknown): never {
  throw new BulwarkError('API_UNREACHABLE', (err as Error).message, { hint: 'is bulwark up running? Pass --url or set BULWARK_URL if it listens elsewhere' });
}

/** A drill step runs `bulwark drill run NAME` in a child process: the drills room's own command, lock and revert journal. */
function runDrill(drill: string, configPath: string, dataDir: string, signal: AbortSignal, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  const args = [...process.execArgv, process.argv[1]!, 'drill', 'run', drill, '-c', configPath, '--data-dir', dataDir, '--json'];
  return new Promise((done) => {
    execFile(process.execPath, args, { signal, timeout: timeoutMs, killSignal: 'SIGTERM', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const report = parseReport(stdout);
      if (!err) return done({ ok: true, detail: `drill ${drill} ${report?.outcome ?? 'passed'}` });
      const why = report?.outcome ?? (stderr.trim().split('\n').at(-1) || err.message);
      done({ ok: false, detail: `drill ${drill}: ${why}` });
    });
  });
}

function parseReport(stdout: string): { outcome?: string } | undefined {
  try {
    return JSON.parse(stdout) as { outcome?: string };
  } catch {
    return undefined;
  }
}

function printStep(s: StepRecord): void {
  const at = new Date(s.endedAt ?? s.startedAt ?? Date.now()).toISOString().slice(11, 19);
  if (s.endedAt === null) return print(`  ${at} ${s.name} (${s.kind}${s.phase ? `, ${s.phase}` : ''})${s.attempts > 1 ? ` attempt ${s.attempts}` : ''}...`);
  const took = s.startedAt !== null ? ` ${s.endedAt - s.startedAt} ms` : '';
  print(`  ${at} ${s.name} ${s.outcome === 'done' ? 'done' : 'FAILED'}${took}${s.detail ? `: ${s.detail}` : ''}`);
}

function printSummary(run: RunbookRun, dataDir: string): void {
  const counts = ['done', 'failed', 'skipped', 'not_run'].map((o) => `${run.steps.filter((s) => s.outcome === o).length} ${o.replace('_', ' ')}`).join(', ');
  print(`runbook ${run.runbook} ${(run.outcome ?? 'unfinished').toUpperCase()} in ${(run.endedAt ?? Date.now()) - run.startedAt} ms: ${counts}`);
  if (run.incidentId !== null) print(`timeline on incident ${run.incidentId} (bulwark incident show ${run.incidentId})`);
  for (const e of run.noteErrors ?? []) printError(`warning: a timeline note was not recorded: ${e}`);
  print(`run log: ${dataDir}/runbooks/runs/${run.id}.json`);
}

async function generate(options: { config: string; output?: string; name: string; force?: boolean }): Promise<void> {
  const { config } = await loadValidConfig(options.config);
  const yaml = generateRunbooks(config, { configPath: options.config, name: options.name });
  if (options.output === undefined) return process.stdout.write(yaml) as unknown as void;
  if (existsSync(options.output) && !options.force) throw new BulwarkError('USAGE', `${options.output} exists`, { hint: 'pass --force to overwrite it, or another -o' });
  await writeFile(options.output, yaml);
  print(`wrote ${options.output}: review it, paste its runbooks: into bulwark.yaml, then bulwark check`);
}
