import { writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { configYaml, createToken, getMetrics, Harness, logLines, metricValue, SECRET, startDaemon, waitFor } from './helpers.js';

const h = new Harness();
afterEach(() => h.cleanup());

const REJECTED = 'bulwark_config_reloads_total{result="rejected"}';
const APPLIED = 'bulwark_config_reloads_total{result="applied"}';

describe('bulwark up: configuration reload', () => {
  it('rejects a config with errors on SIGHUP (old one keeps serving), then applies a valid change from the file watch', async () => {
    const d = await startDaemon(h);
    const token = await createToken(h, d.dataDir, 'ops');
    const auth = { authorization: `Bearer ${token}` };
    const configName = async () => ((await (await fetch(`${d.base}/api/v1/config`, { headers: auth })).json()) as { config: { name: string } }).config.name;
    expect(await configName()).toBe('test-one');

    const before = await getMetrics(d.base);
    const rejectedBefore = metricValue(before, REJECTED);
    const appliedBefore = metricValue(before, APPLIED);

    // An unknown key is an error; the name changes too so we can see the old one stays.
    await writeFile(d.configFile, configYaml('broken-name', 'bogus_key: 1\n'));
    d.proc.child.kill('SIGHUP');
    const rejection = await waitFor(
      () => logLines(d.proc.stderr()).find((line) => typeof line.msg === 'string' && line.msg.startsWith('configuration rejected')),
      'rejection in the log',
    );
    const findings = rejection.findings as string[];
    expect(Array.isArray(findings)).toBe(true);
    const finding = findings.find((f) => f.includes('bogus_key'));
    expect(finding, JSON.stringify(findings)).toBeDefined();
    expect(finding).toMatch(new RegExp(`${d.configFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`));
    expect(rejection.level).toBe(50);

    await waitFor(async () => (metricValue(await getMetrics(d.base), REJECTED) > rejectedBefore ? true : undefined), 'rejected counter');
    expect(await configName()).toBe('test-one');
    expect((await fetch(`${d.base}/readyz`)).status).toBe(200);
    const status = (await (await fetch(`${d.base}/api/v1/status`, { headers: auth })).json()) as { state: string };
    expect(status.state).toBe('running');

    // A valid change, picked up by the file watch without any signal.
    await writeFile(d.configFile, configYaml('test-two'));
    await waitFor(async () => ((await configName()) === 'test-two' ? true : undefined), 'new config applied by file watch');
    const after = await getMetrics(d.base);
    expect(metricValue(after, APPLIED)).toBeGreaterThan(appliedBefore);
    expect(logLines(d.proc.stderr()).some((line) => line.msg === 'configuration reloaded')).toBe(true);
    expect(d.proc.stderr()).not.toContain(SECRET);

    // Every applied revision is kept (the rejected one is not), secret references as written.
    const history = await h.run(['config', 'history', '--data-dir', d.dataDir, '--json']);
    expect(history.code, history.stderr).toBe(0);
    const revisions = JSON.parse(history.stdout) as Array<{ id: number; source: string }>;
    expect(revisions).toHaveLength(2);
    const diff = await h.run(['config', 'diff', String(revisions[1]!.id), 'latest', '--data-dir', d.dataDir]);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toMatch(/^-name: test-one$/m);
    expect(diff.stdout).toMatch(/^\+name: test-two$/m);
    const shown = await h.run(['config', 'show', 'latest', '--data-dir', d.dataDir]);
    expect(shown.stdout).toContain('password: "${env:TEST_SECRET}"');
    expect(shown.stdout).not.toContain(SECRET);
    const unknown = await h.run(['config', 'diff', '999', '--data-dir', d.dataDir]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/no revision 999[\s\S]*bulwark config history/);
  });

  it('with --no-watch a file change is ignored until SIGHUP', async () => {
    const d = await startDaemon(h, { extraArgs: ['--no-watch'] });
    const token = await createToken(h, d.dataDir, 'ops');
    const auth = { authorization: `Bearer ${token}` };
    const configName = async () => ((await (await fetch(`${d.base}/api/v1/config`, { headers: auth })).json()) as { config: { name: string } }).config.name;

    await writeFile(d.configFile, configYaml('test-three'));
    expect(await configName()).toBe('test-one');

    d.proc.child.kill('SIGHUP');
    await waitFor(async () => ((await configName()) === 'test-three' ? true : undefined), 'config applied on SIGHUP');
    expect(metricValue(await getMetrics(d.base), APPLIED)).toBe(1);
    const reloads = logLines(d.proc.stderr()).filter((line) => line.msg === 'configuration reloaded');
    expect(reloads.map((line) => line.reason)).toEqual(['SIGHUP']);
  });

  it('a reload whose secret disappeared is rejected naming the variable, not its value', async () => {
    const d = await startDaemon(h);
    await writeFile(d.configFile, configYaml('test-one').replace('${env:TEST_SECRET}', '${env:TEST_SECRET_MISSING_XYZ}'));
    d.proc.child.kill('SIGHUP');
    const rejection = await waitFor(
      () => logLines(d.proc.stderr()).find((line) => typeof line.msg === 'string' && line.msg.startsWith('configuration rejected')),
      'rejection in the log',
    );
    expect(JSON.stringify(rejection)).toContain('TEST_SECRET_MISSING_XYZ');
    expect((await fetch(`${d.base}/readyz`)).status).toBe(200);
    expect(d.proc.stderr()).not.toContain(SECRET);
  });
});
