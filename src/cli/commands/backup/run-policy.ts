import { runPolicy } from '../../../backup/index.js';
import { BulwarkError } from '../../../core/errors.js';
import { EXIT } from '../../exit-codes.js';
import { print, printError, printJSON } from '../../output.js';
import { ProgressLine } from '../../progress.js';
import { report } from './run.js';
import { waitLockMs, type RepoOptions } from './repo-options.js';

export async function runPolicyCommand(name: string, options: RepoOptions): Promise<void> {
  if (!options.config) throw new BulwarkError('USAGE', '--policy needs -c bulwark.yaml', { hint: `bulwark backup run -c bulwark.yaml --policy ${name}` });
  const { loadValidConfig } = await import('../../../config/index.js');
  const { config } = await loadValidConfig(options.config);
  const progress = new ProgressLine(`policy ${name}`, options);
  const result = await runPolicy(config, name, { lockWaitMs: waitLockMs(options), onProgress: (p) => progress.update(p.bytes, undefined, `${p.files} files`) });
  progress.done();
  if (options.json) printJSON(result);
  else {
    if (result.snapshot) report(result.snapshot, options);
    for (const copy of result.copies) {
      if (!copy.ok) printError(`  copy to ${copy.repository} FAILED: ${copy.error}`);
      else if (!options.quiet) print(`  copied to ${copy.repository} as ${copy.snapshot?.slice(0, 8) ?? '(already there)'}${copy.forgotten ? `; its retention removed ${copy.forgotten} snapshot(s)` : ''}`);
    }
    if (result.forgotten && !options.quiet) print(`  retention removed ${result.forgotten} snapshot(s) of policy ${name}`);
    if (result.error) printError(`error: ${result.error}`);
  }
  process.exitCode = !result.ok || result.copies.some((c) => !c.ok) ? EXIT.findings : result.partial ? EXIT.partial : EXIT.ok;
}
