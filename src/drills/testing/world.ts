import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText, type BulwarkConfig } from '../../config/index.js';
import { openSqliteStore, type Store } from '../../store/index.js';

/** A drill's world for tests: files under `src`, a local repository, a store, the config text. */
export interface DrillWorld { dir: string; source: string; dataDir: string; config: BulwarkConfig; yaml: string; store: Store }

export function configFrom(yaml: string): BulwarkConfig {
  const loaded = parseConfigText(yaml, 'bulwark.yaml');
  if (!loaded.config) throw new Error(loaded.findings.map((f) => f.message).join('\n'));
  return loaded.config as BulwarkConfig;
}

/** 40 files of 1–256 KiB random bytes in nested directories, and a few empty ones. */
export async function writeFiles(root: string): Promise<{ files: number; bytes: number }> {
  let bytes = 0;
  for (let i = 0; i < 40; i++) {
    const dir = join(root, `d${i % 4}`, `e${i % 3}`);
    await mkdir(dir, { recursive: true });
    const size = 1024 + ((i * 7919) % 256) * 1024;
    await writeFile(join(dir, `f${i}.bin`), randomBytes(size));
    bytes += size;
  }
  for (let i = 0; i < 3; i++) await writeFile(join(root, `empty${i}`), '');
  return { files: 43, bytes };
}

export function drillYaml(dir: string, source: string): string {
  return `
version: 1
sla_tiers:
  gold: { availability: 99.9%, rto: 1h, rpo: 1d }
  strict: { availability: 99.9%, rto: 1h, rpo: 1s }
backups:
  repositories:
    local: { path: ${join(dir, 'repo')}, password: drill-test-password }
  policies:
    files: { source: { paths: [${source}] }, schedule: daily, copies: [local] }
dr_testing:
  backup_restoration: { frequency: monthly, policy: files, tier: gold, scope: "database and critical data", rollback: "automatic rollback after testing" }
  strict-restore: { type: backup_restoration, frequency: quarterly, policy: files, tier: strict }
  failover_testing: { frequency: quarterly, duration: "4 hours maximum" }
`;
}

export async function drillWorld(): Promise<DrillWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-drill-'));
  const source = join(dir, 'src');
  await writeFiles(source);
  const dataDir = join(dir, 'data');
  await mkdir(dataDir);
  const yaml = drillYaml(dir, source);
  const store = await openSqliteStore({ path: join(dataDir, 'bulwark.db') });
  await store.migrate();
  return { dir, source, dataDir, config: configFrom(yaml), yaml, store };
}
