import type { Command } from 'commander';
import { findingToJSON, formatFinding, formatKeyPath, hasErrors, loadConfigFile, processLintFacts, type Finding, type LoadOptions } from '../../config/index.js';
import { EXIT } from '../exit-codes.js';
import { print } from '../output.js';

export interface CheckOptions {
  config: string;
  json?: boolean;
  strict?: boolean;
  requireSecrets?: boolean;
}

export interface CheckResult {
  exitCode: number;
  output: string;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate bulwark.yaml and lint it against its own promises')
    .requiredOption('-c, --config <file>', 'configuration file')
    .option('--json', 'print findings as JSON')
    .option('--strict', 'treat warnings as errors (exit 1)')
    .option('--require-secrets', 'an unset ${env:...} or unreadable ${file:...} secret is an error, as it is for `bulwark up`')
    .addHelpText('after', '\nExit codes: 0 clean (warnings allowed), 1 errors found, 2 unusable input (unreadable file, YAML syntax).')
    .action(async (options: CheckOptions) => {
      // Facts of this process (root or not) are read here, at the entry point; checkConfig and the rules stay pure.
      const result = await checkConfig(options, { lintFacts: processLintFacts() });
      print(result.output);
      process.exitCode = result.exitCode;
    });
}

/** The whole of `bulwark check`, output included, without touching the process: the fuzz test drives it. */
export async function checkConfig(options: CheckOptions, loadOptions: LoadOptions = {}): Promise<CheckResult> {
  const loaded = await loadConfigFile(options.config, {
    unresolvedSecrets: options.requireSecrets ? 'error' : 'warning',
    ...loadOptions,
  });
  const errors = loaded.findings.filter((f) => f.severity === 'error').length;
  const warnings = loaded.findings.length - errors;
  const failed = hasErrors(loaded.findings) || (options.strict === true && warnings > 0);
  const exitCode = loaded.unusable ? EXIT.unusable : failed ? EXIT.findings : EXIT.ok;
  if (options.json) {
    const body = { file: loaded.file, ok: exitCode === EXIT.ok, errors, warnings, findings: loaded.findings.map(findingToJSON) };
    return { exitCode, output: JSON.stringify(body, null, 2) };
  }
  const summary = `${loaded.file}: ${errors} error(s), ${warnings} warning(s)`;
  const lines = [...textFindings(loaded.findings), exitCode === EXIT.ok ? `ok: ${summary}` : summary];
  return { exitCode, output: lines.join('\n') };
}

/** Unset secrets are expected where `check` runs in CI; past a few, one line says it and leaves room for the real findings. */
const FOLD_SECRET_WARNINGS_ABOVE = 3;

function textFindings(findings: readonly Finding[]): string[] {
  const unset = findings.filter((f) => f.rule === 'secret.unresolved' && f.severity === 'warning');
  if (unset.length <= FOLD_SECRET_WARNINGS_ABOVE) return findings.map(formatFinding);
  const names = [...new Set(unset.map((f) => /(\$\{(?:env|file):[^}]+\})/.exec(f.message)?.[1] ?? formatKeyPath(f.path)))];
  const first = unset[0]?.location;
  const where = first ? `${first.file}:${first.line}:${first.column} ` : '';
  const folded = `${where}warning: ${unset.length} secret references are not set here: ${names.join(', ')}\n`
    + '  hint:     fine for validation; bulwark up refuses to start without them (--require-secrets makes them errors)';
  return [...findings.filter((f) => !unset.includes(f)).map(formatFinding), folded];
}
