import { existsSync, readdirSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPolicy } from '../../src/backup/index.js';
import { drillWorld, type DrillWorld } from '../../src/drills/testing/world.js';
import { Harness } from '../daemon/helpers.js';

/** `bulwark drill run|ls|show` as a user runs them: exit codes 0 passed, 1 failed, 2 usage. */
describe('bulwark drill', () => {
  const h = new Harness();
  let w: DrillWorld;
  let config: string;
  beforeAll(async () => {
    w = await drillWorld();
    await w.store.close();
    config = join(w.dir, 'bulwark.yaml');
    await writeFile(config, w.yaml);
    expect((await runPolicy(w.config, 'files')).ok).toBe(true);
  }, 60_000);
  afterAll(async () => {
    await h.cleanup();
    if (w) await rm(w.dir, { recursive: true, force: true });
  });
  const drill = (...args: string[]) => h.run(['drill', ...args, '--data-dir', w.dataDir], {}, 60_000);

  it('prints a dry run and touches nothing', async () => {
    const dry = await drill('run', 'backup_restoration', '-c', config, '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/fetch +repository local/);
    expect(dry.stdout).toMatch(/teardown +remove /);
    expect(existsSync(join(w.dataDir, 'drills', 'sandboxes'))).toBe(false);
  }, 60_000);

  it('runs, lists and shows drills with their exit codes', async () => {
    const passed = await drill('run', 'backup_restoration', '-c', config, '--json');
    expect(passed.code, passed.stderr).toBe(0);
    const report = JSON.parse(passed.stdout) as { id: string; outcome: string };
    expect(report.outcome).toBe('passed');
    const failed = await drill('run', 'strict-restore', '-c', config);
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stdout).toMatch(/strict-restore FAILED/);
    const again = await drill('run', 'backup_restoration', '-c', config, '--json');
    expect(again.code, again.stderr).toBe(0);
    const ls = await drill('ls', '--json');
    const listed = JSON.parse(ls.stdout) as { runs: Array<{ outcome: string }>; trends: Array<{ drill: string; runs: number; passed: number; rtoMs: number[]; rtoChangeMs?: number }> };
    expect(listed.runs.map((r) => r.outcome)).toEqual(['passed', 'failed', 'passed']);
    const trend = listed.trends.find((t) => t.drill === 'backup_restoration')!;
    expect(trend).toMatchObject({ runs: 2, passed: 2 });
    expect(trend.rtoMs).toHaveLength(2);
    expect(trend.rtoChangeMs).toBe(trend.rtoMs[1]! - trend.rtoMs[0]!);
    const lsText = await drill('ls');
    expect(lsText.stdout).toMatch(/backup_restoration: 2 run\(s\), 2 passed, 0 failed, 0 aborted; RTO \S{2} last/);
    const html = join(w.dir, 'report.html');
    const written = await drill('show', report.id.slice(0, 8), '--html', '-o', html);
    expect(written.code, written.stderr).toBe(0);
    const page = await readFile(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('<svg');
    expect(page).not.toMatch(/<script|<link|src="http/);
    const show = await drill('show', report.id.slice(0, 8));
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('# Drill backup_restoration: PASSED');
    expect(show.stdout).toContain('## Recommendations');
    expect((await drill('run', 'nosuch', '-c', config)).code).toBe(2);
    expect((await drill('run', 'failover_testing', '-c', config)).code).toBe(2);
  }, 360_000);

  it('stops and reverts a drill run for the daemon when the daemon\'s end of stdin closes (as when it dies)', async () => {
    // The harness gives the child /dev/null as stdin: it reads end-of-file at once, as a pipe from a dead daemon does.
    const orphan = await h.run(['drill', 'run', 'backup_restoration', '-c', config, '--json', '--data-dir', w.dataDir], { BULWARK_DRILL_PARENT: 'pipe' }, 60_000);
    expect(orphan.code, orphan.stderr).toBe(3);
    const report = JSON.parse(orphan.stdout) as { outcome: string; issues: string[] };
    expect(report).toMatchObject({ outcome: 'aborted', issues: ['the drill was interrupted'] });
    expect(existsSync(join(w.dataDir, 'drills', 'journal.json'))).toBe(false);
    const sandboxes = join(w.dataDir, 'drills', 'sandboxes');
    expect(existsSync(sandboxes) ? readdirSync(sandboxes) : []).toEqual([]);
  }, 120_000);
});
