import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrillRunner } from './index.js';
import { RevertJournal } from './journal.js';
import { drillWorld, type DrillWorld } from './testing/world.js';

describe('a journal entry that cannot be reverted', () => {
  let w: DrillWorld;
  beforeAll(async () => {
    w = await drillWorld();
  }, 60_000);
  afterAll(async () => {
    await w?.store.close();
    if (w) await rm(w.dir, { recursive: true, force: true });
  });

  it('is kept, and no new drill runs over it (it would overwrite the journal)', async () => {
    await mkdir(join(w.dataDir, 'drills'));
    const journal = RevertJournal.in(join(w.dataDir, 'drills'));
    await journal.begin({ id: 'aaaaaaaa-0000-0000-0000-000000000000', drill: 'failover_testing', type: 'failover_testing', startedAt: Date.now() });
    await journal.add({ kind: 'pg-schema', database: 'gone', schema: 'bulwark_drill_0123456789ab' });
    const runner = new DrillRunner({ config: w.config, dataDir: w.dataDir, store: w.store });
    await expect(runner.run('backup_restoration')).rejects.toThrow(/aaaaaaaa \(failover_testing\) left what could not be reverted: could not revert .*no database "gone"/);
    expect((await journal.read())?.entries).toEqual([{ kind: 'pg-schema', database: 'gone', schema: 'bulwark_drill_0123456789ab' }]);
    expect((await w.store.drillRuns.get('aaaaaaaa-0000-0000-0000-000000000000'))?.outcome).toBe('aborted');
  });
});
