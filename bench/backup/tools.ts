/**
 * The two backup tools as command lines. restic runs with its defaults
 * (repository format "stable", which is v2 in 0.14, so compression is on in
 * its default "auto" mode); its cache goes in the work dir.
 */
import { execFileSync } from 'node:child_process';

export type ToolName = 'restic' | 'bulwark';

export const PASSWORD = 'bench-password-not-secret';

export interface Tool {
  name: ToolName;
  /** Executable and leading arguments. */
  command: string[];
  env: NodeJS.ProcessEnv;
  init(repo: string): string[];
  backup(repo: string, path: string): string[];
  restore(repo: string, target: string): string[];
  check(repo: string): string[];
}

export function resticTool(bin: string, cacheDir: string): Tool {
  return {
    name: 'restic',
    command: [bin],
    env: { ...process.env, RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: cacheDir },
    init: (repo) => ['init', '-r', repo],
    backup: (repo, path) => ['backup', '-r', repo, '--json', path],
    restore: (repo, target) => ['restore', '-r', repo, 'latest', '--target', target],
    check: (repo) => ['check', '-r', repo, '--read-data'],
  };
}

export function bulwarkTool(prefix: string): Tool {
  return {
    name: 'bulwark',
    command: prefix.split(/\s+/).filter(Boolean),
    env: { ...process.env, BULWARK_BACKUP_PASSWORD: PASSWORD },
    init: (repo) => ['backup', 'init', '-r', repo],
    backup: (repo, path) => ['backup', 'run', '-r', repo, '--json', path],
    restore: (repo, target) => ['restore', '-r', repo, 'latest', '--target', target],
    check: (repo) => ['backup', 'check', '-r', repo, '--read-data'],
  };
}

/** "restic 0.14.0 …" and the repository format version from `restic cat config`. */
export function resticInfo(tool: Tool, repo: string): { version: string; repoVersion: number | null } {
  const [bin, ...pre] = tool.command as [string, ...string[]];
  const run = (args: string[]) => execFileSync(bin, [...pre, ...args], { env: tool.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  let version = 'restic (unknown version)';
  let repoVersion: number | null = null;
  try { version = run(['version']).trim().replace(/ compiled with.*/, ''); } catch { /* reported as unknown */ }
  try { repoVersion = (JSON.parse(run(['cat', 'config', '-r', repo])) as { version?: number }).version ?? null; } catch { /* idem */ }
  return { version, repoVersion };
}

/** The last stdout line parsed as JSON (both tools print a JSON summary last with --json), if it is JSON. */
export function jsonSummary(stdout: string): Record<string, unknown> | undefined {
  const last = stdout.trimEnd().split('\n').pop() ?? '';
  try {
    const v: unknown = JSON.parse(last);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Bytes added to the repository according to a backup's JSON summary (restic: data_added). */
export function dataAdded(summary: Record<string, unknown> | undefined): number | undefined {
  const v = summary?.data_added ?? summary?.dataAdded ?? summary?.bytesAdded;
  return typeof v === 'number' ? v : undefined;
}
