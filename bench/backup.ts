/**
 * Backup benchmark: Bulwark's backup engine against restic (Debian package,
 * default settings: repository v2, compression auto) in one run on the same
 * generated data set (~70% incompressible, ~30% text, 4 KiB-64 MiB files):
 * first backup, second backup after changing ~5% of the data, a backup with
 * nothing changed, a full restore (verified file by file with SHA-256) and
 * `check --read-data`. Prints wall time, MiB/s, peak RSS and repository size
 * for both, the ratios and whether each goal is met.
 *
 * A second data set of many small files (--small-files N, default 50,000 files of
 * 200 B-8 KiB; 0 skips it) runs through the same steps in the same invocation
 * (--size 0 runs only that one).
 *
 *   npx tsx bench/backup.ts [--size 1GiB] [--small-files 50000] [--dir DIR] [--data DIR] [--seed S] [--rounds 1]
 *       [--bulwark "node dist/cli/main.js"] [--restic restic] [--tools restic,bulwark] [--build] [--keep] [--json]
 *
 * --dir: work dir for repos and restores (default: a temp dir, removed at the end);
 * --data: data set dir (default DIR/dataset; reused when seed and size match, repaired after a run's mutation);
 * --rounds: repeats no-change backup, restore and check (median time); --build runs `npm run build` first.
 * As root, installs restic and GNU time when missing and drops the page cache before every timed run.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeDataset, ensureDataset, parseSize, type Dataset, type Shape } from './backup/dataset.js';
import { mutateDataset } from './backup/mutate.js';
import { evaluateGoals, printReport, type BenchResult, type Outcome, type StepName } from './backup/report.js';
import { dirBytes, dropCaches, ensurePackages, lastLines, runMeasured, type Measured } from './backup/run.js';
import { bulwarkTool, dataAdded, jsonSummary, resticInfo, resticTool, type Tool, type ToolName } from './backup/tools.js';
import { describeMismatch, digestTree, treeBytes, verifyRestore, type TreeDigest } from './backup/verify.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1GiB' }, 'small-files': { type: 'string', default: '50000' }, dir: { type: 'string' }, data: { type: 'string' }, seed: { type: 'string', default: 'bulwark-bench-1' },
    rounds: { type: 'string', default: '1' }, bulwark: { type: 'string', default: 'node dist/cli/main.js' }, restic: { type: 'string', default: 'restic' },
    tools: { type: 'string', default: 'restic,bulwark' }, build: { type: 'boolean', default: false }, keep: { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
  },
});
const ROOT = new URL('..', import.meta.url).pathname;
const ROUNDS = Math.max(1, Number(values.rounds));
const MIB = 1024 * 1024;
const log = (line: string) => process.stderr.write(`${line}\n`);

interface ToolState { tool: Tool; repo: string; broken?: string }

interface StepSpec {
  name: StepName;
  bytes: number;
  rounds: number;
  args(t: ToolState, round: number): string[];
  before?(t: ToolState, round: number): void;
  /** Returns a verification problem, if any. */
  after?(t: ToolState, round: number): Promise<string | undefined>;
}

let cachesDropped = false;

async function runOnce(t: ToolState, args: string[], scratch: string): Promise<Measured> {
  cachesDropped = dropCaches();
  const [cmd, ...pre] = t.tool.command as [string, ...string[]];
  return runMeasured(cmd, [...pre, ...args], { env: t.tool.env, cwd: ROOT, scratch });
}

function failure(m: Measured): string {
  const how = m.signal ? `killed by ${m.signal}` : m.code === null ? 'could not start' : `exit ${m.code}`;
  return `${how} after ${m.seconds.toFixed(2)}s; last stderr lines:\n${lastLines(m.stderrTail || m.stdoutTail || '(none)', 8).replace(/^/gm, '    | ')}`;
}

function summarize(spec: StepSpec, runs: Measured[], mismatch: string | undefined): Outcome {
  const secs = runs.map((r) => r.seconds).sort((a, b) => a - b);
  const seconds = secs[Math.floor(secs.length / 2)] as number;
  const rss = runs.map((r) => r.peakRssKiB).filter((x): x is number => x !== null);
  return {
    status: 'ok', seconds, mibPerSec: spec.bytes / MIB / seconds, bytes: spec.bytes, mismatch,
    peakRssMiB: rss.length ? Math.max(...rss) / 1024 : undefined,
    rounds: runs.map((r) => ({ seconds: r.seconds, peakRssMiB: r.peakRssKiB === null ? null : r.peakRssKiB / 1024 })),
  };
}

async function runStep(spec: StepSpec, t: ToolState, scratch: string): Promise<Outcome> {
  const name = `[${t.tool.name}] ${spec.name}`;
  if (t.broken) {
    log(`${name}: skipped (${t.broken})`);
    return { status: 'skipped', reason: t.broken, rounds: [], bytes: spec.bytes };
  }
  const runs: Measured[] = [];
  let mismatch: string | undefined;
  for (let round = 0; round < spec.rounds; round++) {
    spec.before?.(t, round);
    const m = await runOnce(t, spec.args(t, round), scratch);
    if (!m.ok) {
      const reason = failure(m);
      log(`${name}: FAILED, ${reason}`);
      return { status: 'failed', reason, rounds: runs.map((r) => ({ seconds: r.seconds, peakRssMiB: null })), bytes: spec.bytes };
    }
    runs.push(m);
    mismatch = mismatch ?? (await spec.after?.(t, round));
  }
  const out = summarize(spec, runs, mismatch);
  if (spec.name.endsWith('backup')) {
    const size = dirBytes(t.repo);
    Object.assign(out, { repoBytes: size.apparent, repoAllocatedBytes: size.allocated, dataAdded: dataAdded(jsonSummary(runs.at(-1)?.stdoutTail ?? '')) });
  }
  log(`${name}: ${out.seconds?.toFixed(2)}s, ${out.mibPerSec?.toFixed(1)} MiB/s, peak RSS ${out.peakRssMiB?.toFixed(0) ?? '?'} MiB` +
    (out.repoBytes !== undefined ? `, repository ${(out.repoBytes / MIB).toFixed(1)} MiB` : ''));
  if (mismatch) log(`!!! ${name}: RESTORED TREE DIFFERS FROM THE DATA SET: ${mismatch}`);
  return out;
}

async function runAll(spec: StepSpec, tools: ToolState[], res: BenchResult, scratch: string): Promise<void> {
  const step: Partial<Record<ToolName, Outcome>> = {};
  for (const t of tools) {
    const o = await runStep(spec, t, scratch);
    step[t.tool.name] = o;
    if (spec.name === 'first backup' && o.status !== 'ok') t.broken ??= 'first backup failed';
  }
  res.steps[spec.name] = step;
}

async function init(t: ToolState, res: BenchResult, scratch: string): Promise<void> {
  rmSync(t.repo, { recursive: true, force: true });
  mkdirSync(join(t.repo, '..'), { recursive: true });
  const m = await runOnce(t, t.tool.init(t.repo), scratch);
  if (m.ok) return;
  t.broken = 'init failed';
  res.initFailures[t.tool.name] = failure(m);
  log(`[${t.tool.name}] init: FAILED, ${failure(m)}`);
}

function newResult(ds: Dataset, gen: { seconds: number; reused: boolean }): BenchResult {
  const files = ds.manifest.files;
  const text = files.filter((f) => f.kind === 'text').reduce((a, f) => a + f.size, 0);
  return {
    dataset: { root: ds.root, seed: ds.manifest.seed, bytes: ds.manifest.size, shape: ds.manifest.shape ?? 'mixed', files: files.length, textShare: text / ds.manifest.size, generatedSeconds: gen.seconds, reused: gen.reused },
    cachesDropped: false, loadAverage: [Number(loadavg()[0]?.toFixed(2))], rssSource: 'GNU time %M (max RSS of the child)', rounds: ROUNDS,
    restic: { version: '-', repoVersion: null }, bulwark: { command: values.bulwark }, initFailures: {}, steps: {}, goals: [],
  };
}

async function bench(work: string, ds: Dataset, res: BenchResult): Promise<void> {
  const scratch = join(work, 'scratch');
  mkdirSync(scratch, { recursive: true });
  const wanted = values.tools.split(',').map((s) => s.trim());
  const all = [resticTool(values.restic, join(work, 'restic-cache')), bulwarkTool(values.bulwark)];
  const tools: ToolState[] = all.filter((t) => wanted.includes(t.name)).map((tool) => ({ tool, repo: join(work, 'repos', tool.name) }));
  for (const t of tools) await init(t, res, scratch);
  const restic = tools.find((t) => t.tool.name === 'restic');
  if (restic) res.restic = resticInfo(restic.tool, restic.repo);

  const backup = (name: StepName, bytes: number, rounds = 1): StepSpec => ({ name, bytes, rounds, args: (t) => t.tool.backup(t.repo, ds.root) });
  await runAll(backup('first backup', ds.manifest.size), tools, res, scratch);
  log('mutating the data set...');
  const mutation = await mutateDataset(ds);
  const digest: TreeDigest = await digestTree(ds.root);
  const bytes = treeBytes(digest);
  res.mutation = { ...mutation, bytesAfter: bytes };
  await runAll(backup('second backup', bytes), tools, res, scratch);
  await runAll(backup('no-change backup', bytes, ROUNDS), tools, res, scratch);

  const target = (t: ToolState, round: number) => join(work, `restore-${t.tool.name}-${round}`);
  await runAll({
    name: 'restore', bytes, rounds: ROUNDS,
    before: (t, round) => rmSync(target(t, round), { recursive: true, force: true }),
    args: (t, round) => t.tool.restore(t.repo, target(t, round)),
    after: async (t, round) => {
      const v = await verifyRestore(digest, target(t, round), ds.root);
      rmSync(target(t, round), { recursive: true, force: true });
      return v.ok ? undefined : describeMismatch(v);
    },
  }, tools, res, scratch);
  await runAll({ name: 'check --read-data', bytes, rounds: ROUNDS, args: (t) => t.tool.check(t.repo) }, tools, res, scratch);
}

async function main(): Promise<void> {
  const missing = ensurePackages(values.tools.includes('restic'));
  if (missing.includes('restic')) throw new Error('restic is missing: apt-get install restic (as root)');
  if (values.build) {
    try {
      execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
    } catch {
      log('npm run build FAILED; going on with whatever dist/ holds (bulwark steps may fail)');
    }
  }
  const tempWork = !values.dir;
  const work = values.dir ?? mkdtempSync(join(tmpdir(), 'bulwark-bench-backup-'));
  const dataDir = values.data ?? join(work, 'dataset');
  const smallFiles = Number(values['small-files']);
  const sets: Array<{ dir: string; size: number; shape: Shape }> = parseSize(values.size) > 0 ? [{ dir: dataDir, size: parseSize(values.size), shape: 'mixed' }] : [];
  if (smallFiles > 0) sets.push({ dir: `${dataDir}-small`, size: smallFiles, shape: 'small' });
  try {
    const results: BenchResult[] = [];
    for (const set of sets) {
      log(`data set in ${set.dir}...`);
      const gen = await ensureDataset(set.dir, values.seed, set.size, set.shape);
      const ds: Dataset = gen;
      log(`${gen.reused ? 'reused' : 'generated'} ${describeDataset(ds)} in ${gen.seconds.toFixed(2)}s`);
      const res = newResult(ds, gen);
      if (missing.includes('time')) res.rssSource = 'VmHWM of the child polled every 50 ms (GNU time missing)';
      await bench(join(work, set.shape), ds, res);
      res.cachesDropped = cachesDropped;
      res.loadAverage.push(Number(loadavg()[0]?.toFixed(2)));
      res.goals = evaluateGoals(res);
      results.push(res);
      if (!values.json) printReport(res);
    }
    if (values.json) console.log(JSON.stringify(results.length === 1 ? results[0] : results, null, 1));
  } finally {
    if (!values.keep) {
      for (const set of sets) {
        const w = join(work, set.shape);
        for (const d of ['repos', 'restic-cache', 'scratch']) rmSync(join(w, d), { recursive: true, force: true });
        for (let r = 0; r < ROUNDS; r++) for (const n of ['restic', 'bulwark']) rmSync(join(w, `restore-${n}-${r}`), { recursive: true, force: true });
      }
      if (tempWork) rmSync(work, { recursive: true, force: true });
    }
  }
}

await main();
