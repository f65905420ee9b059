/**
 * Restore drill benchmark: the backup restoration drill's RTO on the data set
 * of bench/backup.ts (~70% incompressible, ~30% text, 4 KiB-64 MiB files;
 * its generator, same seed) beside `restic restore` of the same data, one run.
 * Bulwark backs the data up with a policy and runs the drill in this process
 * (what `bulwark drill run` does: fetch, restore with every byte read back
 * against its content address, count files and bytes, tear down); restic
 * backs up into its own repository and restores `latest` (restic verifies
 * blob hashes as it restores; nothing else). Prints a table.
 *
 *   npx tsx bench/drill-restore.ts [--size 1GiB] [--dir DIR] [--data DIR] [--seed S] [--restic restic] [--keep]
 *
 * As root, drops the page cache before each timed restore.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runPolicy } from '../src/backup/index.js';
import { parseConfigText, type BulwarkConfig } from '../src/config/index.js';
import { DrillRunner } from '../src/drills/index.js';
import { openSqliteStore } from '../src/store/index.js';
import { describeDataset, ensureDataset, parseSize } from './backup/dataset.js';
import { dropCaches, ensurePackages, runMeasured } from './backup/run.js';
import { PASSWORD, resticTool } from './backup/tools.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1GiB' }, dir: { type: 'string' }, data: { type: 'string' }, seed: { type: 'string', default: 'bulwark-bench-1' },
    restic: { type: 'string', default: 'restic' }, keep: { type: 'boolean', default: false },
  },
});

const log = (msg: string): void => void process.stderr.write(`[drill-restore] ${msg}\n`);
const secs = (ms: number): string => (ms / 1000).toFixed(1);

function configFor(work: string, root: string): BulwarkConfig {
  const yaml = `
sla_tiers:
  gold: { availability: 99.9%, rto: 1h, rpo: 1d }
backups:
  repositories:
    local: { path: ${join(work, 'bulwark-repo')}, password: ${PASSWORD} }
  policies:
    data: { source: { paths: [${root}] }, schedule: daily, copies: [local] }
dr_testing:
  restore: { type: backup_restoration, frequency: monthly, policy: data, tier: gold, sandbox: ${join(work, 'sandbox')} }
`;
  const loaded = parseConfigText(yaml, 'bench.yaml');
  if (!loaded.config) throw new Error(loaded.findings.map((f) => f.message).join('\n'));
  return loaded.config as BulwarkConfig;
}

async function bulwark(work: string, root: string): Promise<{ backupMs: number; rtoMs: number; phases: Record<string, number>; outcome: string; files?: number; bytes?: number }> {
  const config = configFor(work, root);
  const began = performance.now();
  const backup = await runPolicy(config, 'data');
  if (!backup.ok) throw new Error(`bulwark backup failed: ${JSON.stringify(backup)}`);
  const backupMs = performance.now() - began;
  const dataDir = join(work, 'bulwark-data');
  mkdirSync(dataDir, { recursive: true });
  const store = await openSqliteStore({ path: join(dataDir, 'bulwark.db') });
  await store.migrate();
  try {
    dropCaches();
    const report = await new DrillRunner({ config, dataDir, store }).run('restore');
    const p = report.policies[0];
    return { backupMs, rtoMs: p?.rto?.measuredMs ?? Number.NaN, phases: p?.phasesMs ?? {}, outcome: report.outcome, files: p?.files, bytes: p?.bytes };
  } finally {
    await store.close();
  }
}

async function restic(work: string, root: string): Promise<{ backupMs: number; restoreMs: number }> {
  const tool = resticTool(values.restic!, join(work, 'restic-cache'));
  const repo = join(work, 'restic-repo');
  const opts = { env: tool.env, cwd: work, scratch: join(work, 'scratch') };
  mkdirSync(opts.scratch, { recursive: true });
  const run = async (args: string[]): Promise<number> => {
    const m = await runMeasured(tool.command[0]!, [...tool.command.slice(1), ...args], opts);
    if (!m.ok) throw new Error(`restic ${args[0]} failed: ${m.stderrTail}`);
    return m.seconds * 1000;
  };
  await run(tool.init(repo));
  const backupMs = await run(tool.backup(repo, root));
  dropCaches();
  const restoreMs = await run(tool.restore(repo, join(work, 'restic-restore')));
  return { backupMs, restoreMs };
}

async function main(): Promise<void> {
  if (ensurePackages(true).includes('restic')) throw new Error('restic is missing: apt-get install restic (as root)');
  const work = values.dir ?? mkdtempSync(join(tmpdir(), 'bulwark-bench-drill-'));
  try {
    const ds = await ensureDataset(values.data ?? join(work, 'dataset'), values.seed!, parseSize(values.size!), 'mixed');
    log(`${ds.reused ? 'reused' : 'generated'} ${describeDataset(ds)}`);
    const load = [loadavg()[0]!];
    log('bulwark: backup, then the restore drill...');
    const b = await bulwark(work, ds.root);
    load.push(loadavg()[0]!);
    log('restic: backup, then restore latest...');
    const r = await restic(work, ds.root);
    load.push(loadavg()[0]!);
    const rows = [
      ['', 'backup (s)', 'restore RTO (s)', 'notes'],
      ['bulwark drill', secs(b.backupMs), secs(b.rtoMs), `${b.outcome}; ${Object.entries(b.phases).map(([k, v]) => `${k} ${secs(v)}`).join(', ')}; ${b.files} files, ${b.bytes} bytes validated`],
      ['restic restore', secs(r.backupMs), secs(r.restoreMs), 'restore latest --target (restic 0.14, repository v2)'],
      ['ratio', (b.backupMs / r.backupMs).toFixed(2), (b.rtoMs / r.restoreMs).toFixed(2), 'bulwark / restic'],
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
    for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
    console.log(`load average (1 min) at start, between, end: ${load.map((l) => l.toFixed(2)).join(', ')}`);
  } finally {
    if (!values.keep) {
      for (const d of ['bulwark-repo', 'bulwark-data', 'sandbox', 'restic-repo', 'restic-cache', 'restic-restore', 'scratch']) rmSync(join(work, d), { recursive: true, force: true });
      if (!values.dir) rmSync(work, { recursive: true, force: true });
    }
  }
}

await main();
