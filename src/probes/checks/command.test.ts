import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCondition, type Condition } from '../../conditions/index.js';
import { contextFor } from '../testing/http-fixtures.js';
import { runCommandCheck } from './command.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-command-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function conditions(...texts: string[]): Condition[] {
  return texts.map((text) => {
    const result = parseCondition(text);
    if (!result.ok) throw new Error(result.error);
    return result.condition;
  });
}

/** True while the process exists and is not a zombie waiting for its parent. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

describe('command check', () => {
  it('passes on exit code 0', async () => {
    const result = await runCommandCheck({ command: ['sh', '-c', 'echo hello'] }, contextFor(5000));
    expect(result).toMatchObject({ ok: true, observations: { exitCode: 0, output: 'hello\n' } });
  });

  it('fails a non-zero exit with the last line of output', async () => {
    const result = await runCommandCheck({ command: ['sh', '-c', 'echo step one; echo "db unreachable" >&2; exit 3'] }, contextFor(5000));
    expect(result).toMatchObject({ ok: false, reason: 'exit_code', message: 'exit code 3: db unreachable', observations: { exitCode: 3 } });
  });

  it('passes arguments without a shell', async () => {
    const result = await runCommandCheck({ command: ['printf', '%s', '$HOME; rm -rf /'] }, contextFor(5000));
    expect(result.observations.output).toBe('$HOME; rm -rf /');
  });

  it('adds env and honours cwd', async () => {
    const spec = { command: ['sh', '-c', 'echo "$PROBE_X $(pwd)"'], env: { PROBE_X: 'yes' }, cwd: dir };
    const result = await runCommandCheck(spec, contextFor(5000));
    expect(result.observations.output).toBe(`yes ${dir}\n`);
  });

  it('kills the whole process group at the timeout', async () => {
    const pids = join(dir, 'pids');
    const spec = { command: ['sh', '-c', `sleep 5 & echo $$ $! > ${pids}; wait`] };
    const result = await runCommandCheck(spec, contextFor(200));
    expect(result).toMatchObject({ ok: false, reason: 'timeout' });
    expect(Math.abs(result.durationMs - 200)).toBeLessThan(100);
    const [shell, sleeper] = readFileSync(pids, 'utf8').trim().split(' ').map(Number) as [number, number];
    // The direct child is reaped before the result; the grandchild got SIGKILL in
    // the same kill(-pgid) but the kernel finishes it on its own schedule.
    expect(() => process.kill(shell, 0)).toThrow();
    await expect.poll(() => alive(sleeper), { timeout: 1000, interval: 5 }).toBe(false);
  });

  it('lets conditions decide on exit_code and output', async () => {
    const command = ['sh', '-c', 'echo "pg_isready: version 16.2"; exit 2'];
    const pass = await runCommandCheck({ command, conditions: conditions('exit_code == 2', 'output matches "version 1[4-9]"') }, contextFor(5000));
    expect(pass.ok).toBe(true);
    const fail = await runCommandCheck({ command, conditions: conditions('output contains "accepting"') }, contextFor(5000));
    expect(fail).toMatchObject({ ok: false, reason: 'condition' });
    expect(fail.message).toBe('condition failed: output contains "accepting" (was "pg_isready: version 16.2\\n")');
  });

  it('keeps a bounded amount of a huge output', async () => {
    const before = process.memoryUsage().rss;
    const result = await runCommandCheck({ command: ['head', '-c', '200000000', '/dev/zero'] }, contextFor(20_000));
    expect(result).toMatchObject({ ok: true, observations: { exitCode: 0, outputTruncated: true } });
    expect(String(result.observations.output).length).toBeLessThanOrEqual(1024);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
  });

  it('reports a program that cannot start', async () => {
    const result = await runCommandCheck({ command: ['/nonexistent/bulwark-probe'] }, contextFor(2000));
    expect(result).toMatchObject({ ok: false, reason: 'error' });
    expect(result.message).toContain('ENOENT');
    expect(await runCommandCheck({ command: [] }, contextFor(100))).toMatchObject({ reason: 'error' });
  });
});
