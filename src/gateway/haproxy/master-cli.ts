import { haproxyCommand } from './runtime-api.js';

/** What the master CLI's `show proc` says: the master, its current workers and how many reloads failed. */
export interface ProcessList {
  master: number | undefined;
  workers: number[];
  failedReloads: number;
}

/** Parses `show proc` (HAProxy 2.6): "# workers" lines until "# old workers". */
export function parseShowProc(text: string): ProcessList {
  const list: ProcessList = { master: undefined, workers: [], failedReloads: 0 };
  let section: 'master' | 'workers' | 'other' = 'master';
  for (const line of text.split('\n')) {
    if (line.startsWith('# workers')) section = 'workers';
    else if (line.startsWith('# ')) section = 'other';
    const match = /^(\d+)\s+(master|worker)\s+/.exec(line);
    if (!match) continue;
    if (match[2] === 'master') {
      list.master = Number(match[1]);
      list.failedReloads = Number(/\[failed: (\d+)\]/.exec(line)?.[1] ?? 0);
    } else if (section === 'workers') list.workers.push(Number(match[1]));
  }
  return list;
}

export async function showProc(masterSocket: string, timeoutMs = 2_000): Promise<ProcessList> {
  return parseShowProc(await haproxyCommand(masterSocket, 'show proc', timeoutMs));
}
