import type { Command } from 'commander';
import { findingToJSON, formatFinding, hasErrors, loadConfigFile } from '../../config/index.js';
import { EXIT } from '../exit-codes.js';
import { print, printJSON } from '../output.js';

interface CheckOptions {
  config: string;
  json?: boolean;
  strict?: boolean;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate bulwark.yaml and lint it against its own promises')
    .requiredOption('-c, --config <file>', 'configuration file')
    .option('--json', 'print findings as JSON')
    .option('--strict', 'treat warnings as errors (exit 1)')
    .addHelpText('after', '\nExit codes: 0 clean (warnings allowed), 1 errors found, 2 unusable input (unreadable file, YAML syntax).')
    .action(async (options: CheckOptions) => {
      process.exitCode = await runCheck(options);
    });
}

async function runCheck(options: CheckOptions): Promise<number> {
  const loaded = await loadConfigFile(options.config);
  const errors = loaded.findings.filter((f) => f.severity === 'error').length;
  const warnings = loaded.findings.length - errors;
  const failed = hasErrors(loaded.findings) || (options.strict === true && warnings > 0);
  const code = loaded.unusable ? EXIT.unusable : failed ? EXIT.findings : EXIT.ok;
  if (options.json) {
    printJSON({ file: loaded.file, ok: code === EXIT.ok, errors, warnings, findings: loaded.findings.map(findingToJSON) });
    return code;
  }
  for (const finding of loaded.findings) print(formatFinding(finding));
  const summary = `${loaded.file}: ${errors} error(s), ${warnings} warning(s)`;
  print(code === EXIT.ok ? `ok: ${summary}` : summary);
  return code;
}
