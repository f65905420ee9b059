import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText, type BulwarkConfig } from '../../../config/index.js';
import { openSqliteStore, type Store } from '../../../store/index.js';
import { effectiveRules, type ResolvedRule } from '../../default-rules.js';
import type { Signal } from '../../types.js';

/** Test fixtures for the sources: a parsed configuration, its rules, a fresh SQLite store, an emit that records. */

export function configFrom(yaml: string): BulwarkConfig {
  const loaded = parseConfigText(yaml, 'test.yaml', { lint: false });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.findings, null, 2));
  return loaded.config;
}

export function setup(yaml: string): { config: BulwarkConfig; rules: ResolvedRule[] } {
  const config = configFrom(yaml);
  return { config, rules: effectiveRules(config) };
}

export async function tempStore(): Promise<{ store: Store; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-sources-'));
  const store = await openSqliteStore({ path: join(dir, 'bulwark.db') });
  await store.migrate();
  return {
    store,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function recorder(): { emit: (signals: Signal[]) => void; batches: Signal[][]; take(): Signal[] } {
  const batches: Signal[][] = [];
  return {
    batches,
    emit: (signals) => batches.push(signals),
    /** Every signal emitted since the last take, in order. */
    take: () => batches.splice(0).flat(),
  };
}

/** rule, subject and firing: what most assertions are about. */
export const brief = (signals: readonly Signal[]): Array<[string, string, boolean]> => signals.map((s) => [s.rule, s.subject, s.firing]);
