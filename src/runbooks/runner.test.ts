import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/index.js';
import { runFile } from './log.js';
import { runRunbook } from './runner.js';
import type { FailureChoice, RunbookHooks } from './types.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const NODE = JSON.stringify(process.execPath);

function runbookOf(steps: string) {
  const loaded = parseConfigText(`runbooks:\n  r:\n    steps:\n${steps}`, 'test.yaml', { env: {} });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.findings));
  return loaded.config.runbooks.r!;
}

function hooks(choices: FailureChoice[], confirmed: string | null = null): RunbookHooks & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    confirm: async (step) => {
      asked.push(`confirm ${step}`);
      return confirmed;
    },
    onFailure: async (f) => {
      asked.push(`failed ${f.step} #${f.attempts}`);
      return choices.shift() ?? 'abort';
    },
    runDrill: async () => ({ ok: true, detail: 'passed' }),
  };
}

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-runbook-'));
  dirs.push(dir);
  return dir;
}

describe('runRunbook', () => {
  it('retries a failed step, then goes on after a skip, and ends failed with the skip recorded', async () => {
    const dir = await dataDir();
    const marker = join(dir, 'second-try');
    // Fails the first time, passes once the marker exists (written on the first try).
    const flaky = `require('fs').existsSync(${JSON.stringify(marker)}) ? process.exit(0) : (require('fs').writeFileSync(${JSON.stringify(marker)}, ''), process.exit(1))`;
    const book = runbookOf(`      - { name: flaky, command: [${NODE}, -e, ${JSON.stringify(flaky)}] }
      - { name: broken, command: [${NODE}, -e, "process.exit(2)"] }
      - { name: checklist, manual: [one, two] }
`);
    const h = hooks(['retry', 'skip', 'skip']);
    const run = await runRunbook({ name: 'r', runbook: book, dataDir: dir, hooks: h, incidentId: null, signal: new AbortController().signal });
    expect(h.asked).toEqual(['failed flaky #1', 'failed broken #1', 'confirm checklist', 'failed checklist #1']);
    expect(run.steps.map((s) => [s.name, s.outcome, s.attempts])).toEqual([['flaky', 'done', 2], ['broken', 'skipped', 1], ['checklist', 'skipped', 1]]);
    expect(run.steps[2]!.detail).toMatch(/--confirm checklist/);
    expect(run.outcome).toBe('failed');
    expect(JSON.parse(await readFile(runFile(dir, run), 'utf8'))).toEqual(run);
  });

  it('kills a command at its timeout, and an abort leaves the rest not run', async () => {
    const dir = await dataDir();
    const book = runbookOf(`      - { name: hangs, command: [${NODE}, -e, "setInterval(() => {}, 1000)"], timeout: 300ms }
      - { name: after, manual: x }
`);
    const run = await runRunbook({ name: 'r', runbook: book, dataDir: dir, hooks: hooks(['abort'], '--yes'), incidentId: null, signal: new AbortController().signal });
    expect(run.steps.map((s) => [s.name, s.outcome])).toEqual([['hangs', 'failed'], ['after', 'not_run']]);
    expect(run.steps[0]!.detail).toBe('no answer within 300 ms; killed');
    expect(run.outcome).toBe('failed');
  });

  it('fails api and declare steps clearly without the daemon\'s API', async () => {
    const dir = await dataDir();
    const book = runbookOf('      - { name: call, api: { path: /api/v1/services } }\n');
    const run = await runRunbook({ name: 'r', runbook: book, dataDir: dir, hooks: hooks(['abort']), incidentId: null, signal: new AbortController().signal });
    expect(run.steps[0]!.detail).toMatch(/needs the daemon's API: pass --token/);
  });
});
