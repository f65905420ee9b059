import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunbookRun } from './types.js';

/**
 * The run log: one JSON file per run under `<data dir>/runbooks/runs/`,
 * rewritten (temporary file, then rename) after every step, so a run cut off
 * mid-way still shows every step it finished.
 */
export function runsDir(dataDir: string): string {
  return join(dataDir, 'runbooks', 'runs');
}

export function runFile(dataDir: string, run: Pick<RunbookRun, 'id'>): string {
  return join(runsDir(dataDir), `${run.id}.json`);
}

export async function writeRun(dataDir: string, run: RunbookRun): Promise<string> {
  await mkdir(runsDir(dataDir), { recursive: true });
  const file = runFile(dataDir, run);
  const partial = `${file}.tmp`;
  await writeFile(partial, `${JSON.stringify(run, null, 2)}\n`, { mode: 0o600 });
  await rename(partial, file);
  return file;
}

/** Past runs, newest first (ids start with the start time); unreadable files are left out. */
export async function listRuns(dataDir: string, runbook?: string): Promise<RunbookRun[]> {
  const names = await readdir(runsDir(dataDir)).catch(() => [] as string[]);
  const runs: RunbookRun[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort().reverse()) {
    const run = await readFile(join(runsDir(dataDir), name), 'utf8').then((t) => JSON.parse(t) as RunbookRun).catch(() => undefined);
    if (run && (runbook === undefined || run.runbook === runbook)) runs.push(run);
  }
  return runs;
}
