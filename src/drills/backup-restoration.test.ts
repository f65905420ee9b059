import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runPolicy } from '../backup/index.js';
import { sleep } from '../core/time.js';
import { DrillRunner, reportMarkdown } from './index.js';
import { RevertJournal } from './journal.js';
import { processStartTicks } from './proc.js';
import { configFrom, drillWorld, type DrillWorld } from './testing/world.js';

const countTreeFails = vi.hoisted(() => ({ on: false }));
vi.mock('./count.js', async (original) => {
  const real = await original<typeof import('./count.js')>();
  return {
    countTree: async (dir: string) => {
      if (countTreeFails.on) throw new Error(`validation broke while ${dir} exists: ${existsSync(dir)}`);
      return real.countTree(dir);
    },
  };
});

describe('backup restoration drill on a real local repository', () => {
  let w: DrillWorld;
  let runner: DrillRunner;
  beforeAll(async () => {
    w = await drillWorld();
    const backup = await runPolicy(w.config, 'files');
    expect(backup.ok).toBe(true);
    runner = new DrillRunner({ config: w.config, dataDir: w.dataDir, store: w.store });
  }, 60_000);
  afterAll(async () => {
    await w?.store.close();
    if (w) await rm(w.dir, { recursive: true, force: true });
  });

  const sandboxes = async (): Promise<string[]> => readdir(join(w.dataDir, 'drills', 'sandboxes')).catch(() => []);

  it('restores the latest snapshot into a sandbox, validates it, removes the sandbox, and passes within the tier', async () => {
    const report = await runner.run('backup_restoration');
    expect(report.outcome).toBe('passed');
    const [files] = report.policies;
    expect(files).toMatchObject({ policy: 'files', source: 'paths', files: 43, problems: [], passed: true, rto: { targetMs: 3_600_000, passed: true }, rpo: { targetMs: 86_400_000, passed: true } });
    expect(files!.rto!.marginMs).toBe(3_600_000 - files!.rto!.measuredMs);
    expect(report.timeline.map((s) => s.step)).toEqual(['fetch', 'restore', 'validate', 'teardown']);
    expect(report.notes).toEqual({ scope: 'database and critical data', rollback: 'automatic rollback after testing' });
    expect(await sandboxes()).toEqual([]);
    expect(existsSync(join(w.dataDir, 'drills', 'journal.json'))).toBe(false);
    const stored = await w.store.drillRuns.get(report.id);
    expect(stored).toMatchObject({ outcome: 'passed', drill: 'backup_restoration', type: 'backup_restoration' });
    const md = reportMarkdown(report);
    for (const heading of ['## Measurements against targets', '## Execution log', '## Issues found', '## Recommendations']) expect(md).toContain(heading);
    process.stderr.write(`drill RTO ${files!.rto!.measuredMs} ms (${files!.bytes} bytes, ${files!.files} files); phases ${JSON.stringify(files!.phasesMs)}\n`);
  }, 60_000);

  it('fails the grade when the snapshot is older than the RPO, naming the margin', async () => {
    await sleep(1_100);
    const report = await runner.run('strict-restore');
    expect(report.outcome).toBe('failed');
    const [files] = report.policies;
    expect(files!.problems).toEqual([]);
    expect(files!.rpo).toMatchObject({ targetMs: 1000, passed: false });
    expect(files!.rpo!.marginMs).toBeLessThan(0);
    expect(report.issues.join('\n')).toMatch(/RPO missed by \d+ ms/);
    expect(report.recommendations.join('\n')).toContain('schedule the policy at least every 1.0s');
    expect((await w.store.drillRuns.get(report.id))?.outcome).toBe('failed');
  }, 60_000);

  it('removes the sandbox even when validation throws, and records the policy as failed', async () => {
    countTreeFails.on = true;
    try {
      const report = await runner.run('backup_restoration');
      expect(report.outcome).toBe('failed');
      expect(report.policies[0]!.problems.join('\n')).toMatch(/validation broke while .* exists: true/);
      expect(report.timeline.map((s) => [s.step, s.ok])).toEqual([['fetch', true], ['restore', true], ['validate', false], ['teardown', true]]);
    } finally {
      countTreeFails.on = false;
    }
    expect(await sandboxes()).toEqual([]);
    expect(existsSync(join(w.dataDir, 'drills', 'journal.json'))).toBe(false);
  }, 60_000);

  it('refuses a second drill while one runs', async () => {
    let stepped!: () => void;
    const firstStep = new Promise<void>((resolve) => (stepped = resolve));
    const watched = new DrillRunner({ config: w.config, dataDir: w.dataDir, store: w.store, onStep: () => stepped() });
    const first = watched.run('backup_restoration');
    await firstStep;
    await expect(runner.run('strict-restore')).rejects.toMatchObject({ code: 'DATA_DIR_LOCKED' });
    expect((await first).outcome).toBe('passed');
  }, 60_000);

  it('refuses drill types that are not built yet, and unknown drills', () => {
    expect(() => runner.drill('failover_testing')).toThrow(/a failover drill needs a PostgreSQL database/);
    const more = new DrillRunner({ config: configFrom(`${w.yaml}  latency_injection: { frequency: annually }\n`), dataDir: w.dataDir, store: w.store });
    expect(() => more.drill('latency_injection')).toThrow(/cannot run yet/);
    expect(() => runner.drill('nosuch')).toThrow(/no drill "nosuch"/);
  });

  it('plans a dry run without touching anything', () => {
    const steps = runner.plan('backup_restoration');
    expect(steps.map((s) => s.step)).toEqual(['lock', 'recover', 'fetch', 'restore', 'validate', 'teardown', 'grade']);
    expect(steps.find((s) => s.step === 'fetch')?.touches).toContain('repository local');
  });

  it('replays the journal of a crashed drill: the sandbox removed, the process killed, the run recorded as aborted', async () => {
    const drillsDir = join(w.dataDir, 'drills');
    const sandbox = join(drillsDir, 'sandboxes', 'crashed-files');
    const journal = RevertJournal.in(drillsDir);
    await journal.begin({ id: '7e0a2b1c-0000-4000-8000-00000000cafe', drill: 'backup_restoration', type: 'backup_restoration', startedAt: Date.now() - 60_000 });
    await journal.add({ kind: 'dir', path: sandbox });
    await mkdir(join(sandbox, 'deep'), { recursive: true });
    await writeFile(join(sandbox, 'deep', 'file'), 'left behind');
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const startTicks = await processStartTicks(child.pid!);
    await journal.add({ kind: 'process', pid: child.pid!, startTicks: startTicks!, what: 'a scratch process' });

    const report = await runner.recover();
    expect(report).toMatchObject({ id: '7e0a2b1c-0000-4000-8000-00000000cafe', outcome: 'aborted' });
    expect(await exited).toBe('SIGTERM');
    expect(existsSync(sandbox)).toBe(false);
    expect(existsSync(join(drillsDir, 'journal.json'))).toBe(false);
    expect(await w.store.drillRuns.get('7e0a2b1c')).toMatchObject({ outcome: 'aborted', drill: 'backup_restoration' });
    expect(await runner.recover()).toBeUndefined();
  }, 30_000);

  it('does not kill a process whose pid was reused (start time differs)', async () => {
    const drillsDir = join(w.dataDir, 'drills');
    const journal = RevertJournal.in(drillsDir);
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      await journal.begin({ id: '7e0a2b1c-0000-4000-8000-00000000beef', drill: 'backup_restoration', type: 'backup_restoration', startedAt: Date.now() });
      await journal.add({ kind: 'process', pid: child.pid!, startTicks: (await processStartTicks(child.pid!))! - 1, what: 'an older process' });
      const report = await runner.recover();
      expect(report?.timeline[0]?.detail).toContain('was no longer running');
      expect(child.exitCode === null && child.signalCode === null).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);
});
