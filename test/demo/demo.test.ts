/**
 * `bulwark demo` end to end, as a user runs it: the CLI in its own process, its demo
 * servers in theirs. One is SIGKILLed under traffic; the gateway must hide it, status
 * must show it, and SIGTERM must leave nothing behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../daemon/helpers.js';
import type { DemoFacts } from '../../src/cli/commands/demo.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'src', 'cli', 'main.ts');
const cleanup: Array<() => Promise<void> | void> = [];

afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function output(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

async function startDemo(dataDir: string, port: number): Promise<{ child: ChildProcess; facts: DemoFacts; stderr: () => string }> {
  const child = run(['demo', '--json', '--data-dir', dataDir, '--port', String(port)]);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  cleanup.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const facts = await new Promise<DemoFacts>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no JSON line within 60 s: ${stderr}`)), 60_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as DemoFacts);
    });
    child.once('exit', (code) => reject(new Error(`demo exited with ${String(code)} before it was up: ${stderr}`)));
  });
  cleanup.push(() => {
    for (const s of facts.servers) if (alive(s.pid)) process.kill(s.pid, 'SIGKILL');
  });
  return { child, facts, stderr: () => stderr };
}

describe('bulwark demo', () => {
  it('serves through the gateway, hides a SIGKILLed server, shows it in status, and stops cleanly on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'bulwark-demo-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const { child, facts, stderr } = await startDemo(dataDir, port);
    const exited = output(child);

    expect(facts.gateway).toBe(`http://127.0.0.1:${port}`);
    expect(facts.token).toMatch(/^bwk_/);
    expect(facts.config).toBe(join(dataDir, 'demo', 'bulwark.yaml'));
    expect(facts.servers.map((s) => [s.zone, s.backup])).toEqual([
      ['us-east-1a', false], ['us-east-1b', false], ['us-east-1c', false], ['us-west-2a', true],
    ]);
    for (const s of facts.servers) expect(alive(s.pid)).toBe(true);

    const first = await fetch(`${facts.gateway}/`);
    expect(first.status).toBe(200);
    const body = await first.json() as { server: string; zone: string };
    expect(facts.servers.map((s) => s.name)).toContain(body.server);

    const victim = facts.servers[0]!;
    process.kill(victim.pid, 'SIGKILL');
    const failures: string[] = [];
    let ok = 0;
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      try {
        const res = await fetch(`${facts.gateway}/`, { signal: AbortSignal.timeout(5_000) });
        const answer = await res.text();
        if (res.status === 200) ok++;
        else failures.push(`${res.status} ${answer.slice(0, 120)}`);
      } catch (err) {
        failures.push(String((err as Error).cause ?? err));
      }
    }
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(10);

    // fall 2 at 1 s: down within about 2 s of the kill; the 3 s of traffic above covered that.
    const status = await output(run(['status', '--url', facts.api], { BULWARK_TOKEN: facts.token }));
    expect(status.stdout).toContain(`api/${victim.name} [${victim.zone}]: down`);

    child.kill('SIGTERM');
    const result = await exited;
    expect(result.code, stderr()).toBe(0);
    for (const s of facts.servers) expect(alive(s.pid), `${s.name} (pid ${s.pid}) still running`).toBe(false);
  });

  it('answers --help', async () => {
    const help = await output(run(['demo', '--help']));
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--port');
    expect(help.stdout).toContain('--data-dir');
    expect(help.stdout).toContain('--json');
  });
});
