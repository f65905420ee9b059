import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `bulwark ARGS` as a process, as a user or a script runs it. */
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('bulwark with an unknown command', () => {
  it.each([[['nosuch']], [['nosuch', '--help']], [['help', 'nosuch']]])('%j exits 2 and names it, printing no help', async (args) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: unknown command 'nosuch'");
    expect(result.stdout).toBe('');
  });

  it('with --help, still suggests the command meant', async () => {
    const result = await run(['chek', '--help']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: unknown command 'chek'\n(Did you mean check?)");
  });
});

describe('bulwark help still works', () => {
  it.each([[['--help'], 'Usage: bulwark [options] [command]'], [['check', '--help'], 'Usage: bulwark check'], [['help', 'check'], 'Usage: bulwark check']])('%j exits 0 with its usage', async (args, usage) => {
    const result = await run(args);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(usage);
  });
});
