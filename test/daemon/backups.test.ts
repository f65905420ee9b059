import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createToken, getMetrics, Harness, logLines, metricValue, SECRET, startDaemon, waitFor, type Daemon } from './helpers.js';

const h = new Harness();
afterEach(() => h.cleanup());

interface Run { id: string; ok: boolean; partial: boolean; snapshot_id: string | null; error: string | null; started_at: string }
interface PolicyView { policy: string; next_run: string | null; last_run: Run | null; last_success: Run | null; copies: Array<{ repository: string; last_success: string | null }> }

/** Every two seconds: the friendly forms stop at minutes, a six-field cron has seconds. */
const EVERY_2S = '"*/2 * * * * *"';

async function backupsConfig(policies: string): Promise<{ dir: string; yaml: string }> {
  const dir = await h.tempDir();
  await mkdir(join(dir, 'src', 'sub'), { recursive: true });
  await writeFile(join(dir, 'src', 'a.txt'), 'hello backups\n');
  await writeFile(join(dir, 'src', 'sub', 'b.txt'), 'more data\n'.repeat(100));
  const yaml = `name: backups-test
backups:
  repositories:
    local: { path: ${join(dir, 'repo')}, password: "\${env:TEST_SECRET}" }
    broken: { path: /dev/null/repo, password: "\${env:TEST_SECRET}" }
  policies:
${policies.replaceAll('DIR', dir)}`;
  return { dir, yaml };
}

async function api<T>(d: Daemon, token: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${d.base}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as T };
}

async function policy(d: Daemon, token: string, name: string): Promise<PolicyView | undefined> {
  const { body } = await api<{ policies: PolicyView[] }>(d, token, '/backups');
  return body.policies.find((p) => p.policy === name);
}

describe('bulwark up: scheduled backups', () => {
  it('runs a policy on its schedule, shows it in the API and metrics, and the CLI lists the snapshot', async () => {
    const { dir, yaml } = await backupsConfig(`    files: { source: { paths: [DIR/src] }, schedule: ${EVERY_2S}, copies: [local] }\n`);
    const d = await startDaemon(h, { yaml });
    const token = await createToken(h, d.dataDir, 'ops');

    const view = await waitFor(async () => {
      const p = await policy(d, token, 'files');
      return p?.last_success?.snapshot_id ? p : undefined;
    }, 'a successful scheduled backup', 30_000);
    expect(view.last_success).toMatchObject({ ok: true, partial: false, error: null });
    expect(view.next_run).toMatch(/^\d{4}-/);
    expect(view.copies).toEqual([{ repository: 'local', primary: true, last_success: expect.any(String), age_ms: expect.any(Number) }]);

    const metrics = await getMetrics(d.base);
    expect(metricValue(metrics, 'bulwark_backup_last_success_timestamp_seconds{policy="files"}')).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(metricValue(metrics, 'bulwark_backup_runs_total{policy="files",result="ok"}')).toBeGreaterThanOrEqual(1);
    expect(metrics).toContain('bulwark_backup_age_seconds{policy="files"}');

    const runs = await api<{ runs: Run[] }>(d, token, '/backups/files/runs?limit=5');
    expect(runs.status).toBe(200);
    expect(runs.body.runs.some((r) => r.snapshot_id === view.last_success?.snapshot_id)).toBe(true);

    const ls = await h.run(['backup', 'ls', '-r', join(dir, 'repo'), '--json'], { BULWARK_BACKUP_PASSWORD: SECRET });
    expect(ls.code, ls.stderr).toBe(0);
    const snapshots = JSON.parse(ls.stdout) as Array<{ id: string; source: { policy?: string } }>;
    expect(snapshots.map((s) => s.id)).toContain(view.last_success?.snapshot_id);
    expect(snapshots.every((s) => s.source.policy === 'files')).toBe(true);

    const lines = logLines(d.proc.stderr());
    expect(lines.some((l) => l.subsystem === 'backup' && l.msg === 'backup run finished' && l.policy === 'files')).toBe(true);
    expect(d.proc.stderr()).not.toContain(SECRET);
  });

  it('records a run into an unwritable repository, or of a missing source, as failed, and keeps running', async () => {
    const { yaml } = await backupsConfig([
      `    unwritable: { source: { paths: [DIR/src] }, schedule: "daily at 02:00", copies: [broken] }`,
      `    missing: { source: { paths: [DIR/does-not-exist] }, schedule: "daily at 02:00", copies: [local] }`,
    ].join('\n') + '\n');
    const d = await startDaemon(h, { yaml });
    const token = await createToken(h, d.dataDir, 'ops');

    for (const name of ['unwritable', 'missing']) {
      const started = await api<{ run_id: string }>(d, token, `/backups/${name}/run`, { method: 'POST' });
      expect(started.status).toBe(202);
      const view = await waitFor(async () => {
        const p = await policy(d, token, name);
        return p?.last_run?.id === started.body.run_id ? p : undefined;
      }, `the ${name} run to be recorded`, 30_000);
      expect(view.last_run).toMatchObject({ ok: false });
      expect(view.last_success).toBeNull();
    }
    const unwritable = await api<{ runs: Run[] }>(d, token, '/backups/unwritable/runs');
    expect(unwritable.body.runs[0]?.error).toMatch(/\/dev\/null\/repo/);
    const missing = await api<{ runs: Run[] }>(d, token, '/backups/missing/runs');
    expect(missing.body.runs[0]?.error).toMatch(/does-not-exist.*ENOENT/);

    const metrics = await getMetrics(d.base);
    expect(metricValue(metrics, 'bulwark_backup_runs_total{policy="unwritable",result="failed"}')).toBe(1);
    expect(metricValue(metrics, 'bulwark_backup_last_run_success{policy="missing"}')).toBe(0);
    expect(metrics).not.toContain('bulwark_backup_last_success_timestamp_seconds{policy="missing"}');
    expect((await fetch(`${d.base}/readyz`)).status).toBe(200);
    expect(d.proc.child.exitCode).toBeNull();
    expect(logLines(d.proc.stderr()).filter((l) => l.msg === 'backup run failed').map((l) => l.policy).sort()).toEqual(['missing', 'unwritable']);
    expect(d.proc.stderr()).not.toContain(SECRET);

    expect((await api(d, token, '/backups/nope/run', { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${d.base}/api/v1/backups`)).status).toBe(401);
  });
});
