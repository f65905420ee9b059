import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RestoreContext } from './context.js';

/**
 * A sandbox directory for one policy, journalled before it exists and removed
 * (and unjournalled) whatever happens inside; the teardown is a timeline step.
 */
export async function withSandbox<T>(ctx: RestoreContext, name: string, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = join(ctx.sandboxRoot, `${ctx.runId.slice(0, 8)}-${name}`);
  await ctx.journal.add({ kind: 'dir', path: dir });
  try {
    return await use(dir);
  } finally {
    await ctx.timeline.step('teardown', name, async () => {
      await rm(dir, { recursive: true, force: true });
      await ctx.journal.remove((e) => e.kind === 'dir' && e.path === dir);
    }, () => `removed ${dir}`);
  }
}
