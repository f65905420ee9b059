import type { Command } from 'commander';
import { generateToken } from '../../auth/index.js';
import { addDataDirOption, withStore } from '../common.js';
import { print, printJSON } from '../output.js';

interface StoreOptions {
  config?: string;
  dataDir: string;
  json?: boolean;
}

export function registerToken(program: Command): void {
  const token = program.command('token').description('manage admin API tokens (only their hashes are stored)');

  addDataDirOption(token.command('create'))
    .description('create a token and print it once')
    .requiredOption('--name <name>', 'what the token is for, e.g. "ci" or "grafana"')
    .option('-c, --config <file>', 'configuration file (to use its store: postgres setting)')
    .option('--json', 'print {name, token} as JSON')
    .action(async (options: StoreOptions & { name: string }) => {
      const generated = generateToken();
      await withStore(options, (store) => store.createToken({ name: options.name, hash: generated.hash, prefix: generated.prefix }));
      if (options.json) return printJSON({ name: options.name, token: generated.token });
      print(generated.token);
      process.stderr.write(`token "${options.name}" created. It is shown only this once: store it in your secret manager.\n`);
    });

  addDataDirOption(token.command('list'))
    .description('list tokens (name, prefix, created, last used, revoked)')
    .option('-c, --config <file>', 'configuration file (to use its store: postgres setting)')
    .option('--json', 'print as JSON')
    .action(async (options: StoreOptions) => {
      const tokens = await withStore(options, (store) => store.listTokens());
      if (options.json) return printJSON(tokens);
      if (tokens.length === 0) return print('no tokens; create one with: bulwark token create --name NAME');
      for (const t of tokens) {
        print(`${t.name.padEnd(20)} ${t.prefix}…  created ${t.createdAt}  last used ${t.lastUsedAt ?? 'never'}${t.revokedAt ? `  REVOKED ${t.revokedAt}` : ''}`);
      }
    });

  addDataDirOption(token.command('revoke'))
    .description('revoke a token by name; it stops working at once')
    .argument('<name>', 'token name')
    .option('-c, --config <file>', 'configuration file (to use its store: postgres setting)')
    .action(async (name: string, options: StoreOptions) => {
      await withStore(options, (store) => store.revokeToken(name));
      print(`token "${name}" revoked`);
    });
}
