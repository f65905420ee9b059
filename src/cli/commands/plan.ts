import type { Command } from 'commander';
import { formatFinding, loadConfigFile, toTopology } from '../../config/index.js';
import { planTopology, renderPlanTable, type PlanReport } from '../../plan/index.js';
import { EXIT } from '../exit-codes.js';
import { print, printJSON } from '../output.js';

interface PlanOptions {
  config: string;
  json?: boolean;
  color?: boolean;
}

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('model the availability the topology can reach, its downtime budgets, single points of failure and the DR strategy each tier calls for')
    .requiredOption('-c, --config <file>', 'configuration file')
    .option('--json', 'print the plan as JSON')
    .option('--no-color', 'no ANSI colours (also off when stdout is not a terminal)')
    .addHelpText('after', `
Exit codes: 0 every component meets its tier, 1 a component misses its availability
target or RTO (or the model has errors), 2 unusable input.
Model: a member is up when it, its host, its zone and its region are up; members
compose in parallel, depends_on in series; zones, regions and hosts are shared failure
domains (members on one address, every loopback name being one, in one zone share a
host, whose availability is the best of its members': three members on one host are
as available as one).`)
    .action(async (options: PlanOptions) => {
      process.exitCode = await runPlan(options);
    });
}

async function runPlan(options: PlanOptions): Promise<number> {
  const loaded = await loadConfigFile(options.config, { lint: false, unresolvedSecrets: 'warning' });
  if (!loaded.config) {
    for (const finding of loaded.findings) print(formatFinding(finding));
    return loaded.unusable ? EXIT.unusable : EXIT.findings;
  }
  const report = planTopology(toTopology(loaded.config));
  if (options.json) printJSON({ file: loaded.file, ...report });
  else print(renderPlanTable(report, { color: options.color !== false && process.stdout.isTTY === true }).trimEnd());
  return planExitCode(report);
}

export function planExitCode(report: PlanReport): number {
  const missed = report.components.some((c) => c.meetsTarget === false || c.recovery.meetsRto === false);
  const broken = report.findings.some((f) => f.severity === 'error');
  return missed || broken ? EXIT.findings : EXIT.ok;
}
