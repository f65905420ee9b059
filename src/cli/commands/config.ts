import type { Command } from 'commander';
import { createTwoFilesPatch } from 'diff';
import type { ConfigRevision } from '../../store/index.js';
import { BulwarkError } from '../../core/errors.js';
import { addDataDirOption, withStore } from '../common.js';
import { print, printJSON } from '../output.js';

interface StoreOptions { config?: string; dataDir: string; json?: boolean }

/** Every configuration the daemon applied, kept in its store: `bulwark config history|show|diff`. */
export function registerConfig(program: Command): void {
  const config = program.command('config').description('the configurations `bulwark up` applied (secret references as written, inline secrets redacted)');

  addDataDirOption(config.command('history'))
    .description('list applied revisions, newest first')
    .option('-c, --config <file>', 'configuration file (to use its store: postgres setting)')
    .option('-n, --limit <n>', 'how many', '20')
    .option('--json', 'print as JSON (without the texts)')
    .action(async (options: StoreOptions & { limit: string }) => {
      const limit = Number(options.limit);
      if (!Number.isSafeInteger(limit) || limit < 1) throw new BulwarkError('USAGE', `--limit "${options.limit}" is not a positive whole number`, { hint: 'e.g. --limit 20' });
      const revisions = await withStore(options, (store) => store.listConfigRevisions(limit));
      if (options.json) return printJSON(revisions.map(({ text: _text, ...r }) => r));
      if (revisions.length === 0) return print('no revision recorded yet: `bulwark up` records each configuration it applies');
      for (const r of revisions) print(`${String(r.id).padStart(4)}  ${r.recordedAt}  ${r.checksum.slice(0, 12)}  ${r.source}${r.text === null ? '  (text not kept)' : ''}`);
    });

  addDataDirOption(config.command('show'))
    .description('print one revision as it was applied')
    .argument('<revision>', 'revision number from `bulwark config history`, or "latest"')
    .option('-c, --config <file>', 'configuration file (to use its store: postgres setting)')
    .action(async (ref: string, options: StoreOptions) => {
      const revision = await withStore(options, (store) => findRevision(store, ref));
      process.stdout.write(textOf(revision));
    });

  addDataDirOption(config.command('diff'))
    .description('what changed between two applied revisions (a unified diff)')
    .argument('<from>', 'revision number')
    .argument('[to]', 'revision number, or "latest"', 'latest')
    .option('-c, --config <file>', 'configuration file (to use its store: postgres setting)')
    .addHelpText('after', '\nExit codes: 0 the same, 1 they differ, 2 bad input or unknown revision.')
    .action(async (from: string, to: string, options: StoreOptions) => {
      const [a, b] = await withStore(options, async (store) => [await findRevision(store, from), await findRevision(store, to)] as const);
      const patch = createTwoFilesPatch(`revision ${a.id} (${a.recordedAt})`, `revision ${b.id} (${b.recordedAt})`, textOf(a), textOf(b), undefined, undefined, { context: 3 });
      const same = a.checksum === b.checksum;
      if (!same) process.stdout.write(patch);
      else print(`revisions ${a.id} and ${b.id} are the same file`);
      process.exitCode = same ? 0 : 1;
    });
}

async function findRevision(store: { configRevision(id: number): Promise<ConfigRevision | null>; latestConfigRevision(): Promise<ConfigRevision | null> }, ref: string): Promise<ConfigRevision> {
  if (ref === 'latest') {
    const latest = await store.latestConfigRevision();
    if (!latest) throw new BulwarkError('NOT_FOUND', 'no revision recorded yet', { hint: '`bulwark up` records each configuration it applies' });
    return latest;
  }
  const id = Number(ref);
  if (!/^\d+$/.test(ref) || !Number.isSafeInteger(id)) throw new BulwarkError('USAGE', `"${ref}" is not a revision number`, { hint: 'see `bulwark config history`' });
  const revision = await store.configRevision(id);
  if (!revision) throw new BulwarkError('NOT_FOUND', `there is no revision ${id}`, { hint: 'see `bulwark config history`' });
  return revision;
}

function textOf(revision: ConfigRevision): string {
  if (revision.text === null) throw new BulwarkError('NOT_FOUND', `revision ${revision.id} was recorded before Bulwark kept configuration texts`, { hint: 'only its checksum is known; compare later revisions' });
  return revision.text;
}
