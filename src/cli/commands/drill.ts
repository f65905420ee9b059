import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { restoreCommand } from '../../backup/index.js';
import { loadValidConfig } from '../../config/index.js';
import { BulwarkError } from '../../core/errors.js';
import { DRILL_PARENT_ENV, DrillRunner, drillTrends, reportHtml, reportJson, reportMarkdown, sparkline, type DrillReport, type DrillTrend, type TimelineStep } from '../../drills/index.js';
import type { DrillRunRecord } from '../../store/index.js';
import { addDataDirOption, withStore } from '../common.js';
import { EXIT } from '../exit-codes.js';
import { print, printJSON } from '../output.js';
import { walCommandPrefix } from './backup/restore-postgres.js';

interface DrillOptions { config?: string; dataDir: string; json?: boolean; dryRun?: boolean; markdown?: boolean; html?: boolean; output?: string; drill?: string; limit?: string }

const EXIT_HELP = '\nExit codes: 0 passed, 1 failed (a target missed or the restore not whole), 2 bad input, 3 aborted (interrupted, timed out, or could not finish).';

export function registerDrill(program: Command): void {
  const drill = program.command('drill').description('DR drills from dr_testing: run one in this process, list past runs, show a report');
  addDataDirOption(drill.command('run'))
    .description('run a drill now (backup_restoration, database_failover): measure against the real mechanisms, always revert, grade against the tier')
    .argument('<name>', 'a drill under dr_testing')
    .requiredOption('-c, --config <file>', 'configuration file')
    .option('--dry-run', 'print every step and what it would touch; change nothing')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `${EXIT_HELP}\n\nExamples:\n  bulwark drill run backup_restoration -c bulwark.yaml --dry-run\n  bulwark drill run backup_restoration -c bulwark.yaml --json`)
    .action((name: string, options: DrillOptions) => runDrill(name, options));
  addDataDirOption(drill.command('ls'))
    .description('past drill runs, newest first, and each drill\'s trend across them (pass/fail counts, RTO and RPO per run)')
    .option('-c, --config <file>', 'configuration file (to use its store: postgres setting)')
    .option('--drill <name>', 'only this drill')
    .option('-n, --limit <n>', 'how many', '20')
    .option('--json', 'print { runs, trends } as JSON (runs without their reports)')
    .action((options: DrillOptions) => listRuns(options));
  addDataDirOption(drill.command('show'))
    .description('one run\'s report (Markdown by default)')
    .argument('<id>', 'run id or a unique prefix, from `bulwark drill ls`')
    .option('-c, --config <file>', 'configuration file (to use its store: postgres setting)')
    .option('--markdown', 'print the report as Markdown (the default)')
    .option('--json', 'print the report as JSON')
    .option('--html', 'the report as one self-contained HTML page with a timeline chart')
    .option('-o, --output <file>', 'write the report to this file instead of stdout')
    .addHelpText('after', '\nExamples:\n  bulwark drill show 3f2a --html -o drill.html')
    .action((id: string, options: DrillOptions) => showRun(id, options));
}

async function runDrill(name: string, options: DrillOptions): Promise<void> {
  const configPath = resolve(options.config!);
  const { config } = await loadValidConfig(configPath);
  const live = !options.json && !options.dryRun;
  await withStore(options, async (store) => {
    const runner = new DrillRunner({
      config, dataDir: options.dataDir, store,
      walRestoreCommand: (policy, repository) => `${restoreCommand(walCommandPrefix(), policy)} -c ${shellWord(configPath)} --repository ${shellWord(repository)}`,
      onStep: live ? printStep : undefined,
    });
    if (options.dryRun) return printPlan(runner, name, options);
    const interrupt = new AbortController();
    const stop = (): void => interrupt.abort();
    process.once('SIGINT', stop).once('SIGTERM', stop);
    // Run by the daemon: its end of stdin closes when it dies, even by SIGKILL; the drill then stops and reverts.
    if (process.env[DRILL_PARENT_ENV] === 'pipe') process.stdin.once('end', stop).once('error', stop).resume();
    try {
      const report = await runner.run(name, { signal: interrupt.signal });
      if (options.json) process.stdout.write(reportJson(report));
      else printSummary(report);
      process.exitCode = exitCodeOf(report.outcome);
    } finally {
      process.off('SIGINT', stop).off('SIGTERM', stop);
      if (process.env[DRILL_PARENT_ENV] === 'pipe') process.stdin.off('end', stop).off('error', stop).destroy();
    }
  });
}

function printPlan(runner: DrillRunner, name: string, options: DrillOptions): void {
  const steps = runner.plan(name);
  if (options.json) return printJSON({ drill: name, dryRun: true, steps });
  print(`drill ${name}, dry run: nothing is changed`);
  steps.forEach((s, i) => print(`${String(i + 1).padStart(2)}. ${s.step.padEnd(9)} ${s.touches}`));
}

function printStep(s: TimelineStep): void {
  print(`  ${new Date(s.startedAt).toISOString().slice(11, 19)} ${s.step.padEnd(9)} ${(s.subject ?? '').padEnd(16)} ${String(s.durationMs).padStart(7)} ms  ${s.ok ? 'ok' : 'FAILED'}${s.detail ? `  ${s.detail}` : ''}`);
}

function printSummary(report: DrillReport): void {
  print(`drill ${report.drill} ${report.outcome.toUpperCase()} (run ${report.id.slice(0, 8)})`);
  for (const p of report.policies) {
    const rto = p.rto ? `RTO ${p.rto.measuredMs} ms${p.rto.targetMs !== undefined ? ` / ${p.rto.targetMs} ms` : ''}` : 'RTO -';
    const rpo = p.rpo ? `RPO ${p.rpo.measuredMs} ms${p.rpo.targetMs !== undefined ? ` / ${p.rpo.targetMs} ms` : ''}` : 'RPO -';
    print(`  ${p.policy}: ${p.passed ? 'pass' : 'FAIL'}  ${rto}  ${rpo}`);
  }
  const f = report.failover;
  if (f) print(`  ${f.database} ${f.mode} ${f.from} → ${f.to ?? '-'}: RTO ${f.rto ? `${f.rto.measuredMs} ms${f.rto.targetMs !== undefined ? ` / ${f.rto.targetMs} ms` : ''}` : '-'}  write pause ${f.writePauseMs ?? '-'} ms  acknowledged writes lost ${f.lost} of ${f.acknowledged}`);
  for (const issue of report.issues) print(`  issue: ${issue}`);
  print(`report: bulwark drill show ${report.id.slice(0, 8)}`);
}

async function listRuns(options: DrillOptions): Promise<void> {
  const limit = Number(options.limit ?? '20');
  if (!Number.isSafeInteger(limit) || limit < 1) throw new BulwarkError('USAGE', `--limit "${options.limit}" is not a positive whole number`, { hint: 'e.g. --limit 20' });
  const runs = await withStore(options, (store) => store.drillRuns.list({ drill: options.drill, limit }));
  const trends = drillTrends(runs);
  if (options.json) return printJSON({ runs: runs.map(({ report: _report, ...r }) => r), trends });
  if (runs.length === 0) return print('no drill run recorded yet: bulwark drill run NAME -c bulwark.yaml');
  for (const r of runs) print(`${r.id.slice(0, 8)}  ${new Date(r.startedAt).toISOString()}  ${r.outcome.padEnd(7)}  ${r.drill} (${r.type})  ${((r.finishedAt - r.startedAt) / 1000).toFixed(1)}s`);
  print('\ntrends (of the runs listed, oldest to newest):');
  for (const t of trends) print(`  ${trendLine(t)}`);
}

function trendLine(t: DrillTrend): string {
  const change = (ms: number | undefined): string => (ms === undefined ? '' : ` (${ms <= 0 ? '' : '+'}${fmtMs(ms)} on the run before)`);
  const rto = t.rtoMs.length === 0 ? 'RTO -' : `RTO ${sparkline(t.rtoMs)} last ${fmtMs(t.rtoMs.at(-1)!)}${change(t.rtoChangeMs)}`;
  const rpo = t.rpoMs.length === 0 ? 'RPO -' : `RPO last ${fmtMs(t.rpoMs.at(-1)!)}${change(t.rpoChangeMs)}`;
  return `${t.drill}: ${t.runs} run(s), ${t.passed} passed, ${t.failed} failed, ${t.aborted} aborted; ${rto}; ${rpo}`;
}

function fmtMs(ms: number): string {
  return Math.abs(ms) < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

async function showRun(id: string, options: DrillOptions): Promise<void> {
  const run: DrillRunRecord | null = await withStore(options, (store) => store.drillRuns.get(id));
  if (!run) throw new BulwarkError('NOT_FOUND', `no single drill run matches "${id}"`, { hint: 'see `bulwark drill ls`; give more characters of the id' });
  const report = run.report as DrillReport;
  if (options.json && options.html) throw new BulwarkError('USAGE', '--json and --html both given', { hint: 'pick one format' });
  const text = options.json ? reportJson(report) : options.html ? reportHtml(report) : reportMarkdown(report);
  if (options.output === undefined) return void process.stdout.write(text);
  await writeFile(options.output, text);
  print(`wrote ${options.output}`);
}

/** 3 is the CLI's "did not finish" code (EXIT.partial elsewhere). */
export function exitCodeOf(outcome: DrillReport['outcome']): number {
  return outcome === 'passed' ? EXIT.ok : outcome === 'failed' ? EXIT.findings : EXIT.partial;
}

function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
