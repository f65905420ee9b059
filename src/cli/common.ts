import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadValidConfig } from '../config/index.js';
import { openStore, type Store } from '../store/index.js';

export const DEFAULT_DATA_DIR = './.bulwark';

export function addDataDirOption(command: Command): Command {
  return command.option('--data-dir <dir>', 'where Bulwark keeps its state (SQLite store)', DEFAULT_DATA_DIR);
}

/**
 * Open the store the daemon would use: PostgreSQL when the configuration names
 * one (`store: { postgres: URL }`), else SQLite in the data directory.
 */
export async function openStoreFor(options: { config?: string; dataDir: string }): Promise<Store> {
  const postgres = options.config ? (await loadValidConfig(options.config)).config.store?.postgres : undefined;
  const store = await openStore({ dataDir: resolve(options.dataDir), postgres });
  await store.migrate();
  return store;
}

export async function withStore<T>(options: { config?: string; dataDir: string }, use: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStoreFor(options);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}
