import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChangeTrigger } from './change-trigger.js';
import { BackupScheduler } from './scheduler.js';
import { controlledExecutor, memoryLogger, MemoryRunStore, testConfig } from '../../testing/backup-scheduler.js';

describe('ChangeTrigger', () => {
  afterEach(() => vi.useRealTimers());

  function setup(options: { busy?: () => boolean } = {}) {
    vi.useFakeTimers({ now: 0 });
    const fired: number[] = [];
    let last: number | null = null;
    const trigger = new ChangeTrigger({
      debounceMs: 5_000, minIntervalMs: 60_000, now: () => Date.now(), lastStart: () => last, busy: options.busy ?? (() => false),
      fire: () => { fired.push(Date.now()); last = Date.now(); },
    });
    return { trigger, fired };
  }

  it('runs once after a burst of changes has been quiet for the debounce time', async () => {
    const { trigger, fired } = setup();
    for (let i = 0; i < 10; i++) {
      trigger.changed();
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(fired).toEqual([14_000]);
  });

  it('keeps the minimum interval between runs, and runs once more for changes inside it', async () => {
    const { trigger, fired } = setup();
    trigger.changed();
    await vi.advanceTimersByTimeAsync(5_000);
    trigger.changed();
    trigger.changed();
    await vi.advanceTimersByTimeAsync(59_999);
    expect(fired).toEqual([5_000]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual([5_000, 65_000]);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(fired).toHaveLength(2);
  });

  it('a change while a run is going is not lost: another run follows it', async () => {
    let busy = true;
    const { trigger, fired } = setup({ busy: () => busy });
    trigger.changed();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(fired).toEqual([]);
    expect(trigger.waiting).toBe(true);
    busy = false;
    trigger.runFinished();
    await vi.advanceTimersByTimeAsync(0);
    expect(fired).toEqual([120_000]);
  });
});

describe('schedule: on change, in the scheduler with a real file watch', () => {
  let dir: string | undefined;
  const schedulers: BackupScheduler[] = [];
  afterEach(async () => {
    for (const s of schedulers.splice(0)) await s.stop(AbortSignal.abort());
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('backs up after files change, once per burst, and reports the trigger', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-on-change-'));
    await writeFile(join(dir, 'app.conf'), 'v1');
    const { executor, calls } = controlledExecutor({ instant: true });
    const config = testConfig(`    etc: { source: { paths: [${dir}] }, schedule: on change, watch: { debounce: 200ms, min_interval: 1s }, copies: [local] }\n`);
    const { log, lines } = memoryLogger();
    const scheduler = new BackupScheduler({ config, store: new MemoryRunStore(), registry: new Registry(), log, executors: { backup: executor, verify: executor } });
    schedulers.push(scheduler);
    await scheduler.start();
    expect(scheduler.status()[0]).toMatchObject({ schedule: { text: 'on change' } });
    for (let i = 0; i < 5; i++) await writeFile(join(dir, 'app.conf'), `v${i + 2}`);
    await expect.poll(() => calls.length, { timeout: 10_000 }).toBe(1);
    await scheduler.idle();
    const started = () => lines.filter((l) => l.msg === 'backup run started').map((l) => l.trigger);
    expect(started()).toEqual(['change']);
    // A new file one second later (the minimum interval): one more run.
    await writeFile(join(dir, 'new.conf'), 'added');
    await expect.poll(() => calls.length, { timeout: 10_000 }).toBe(2);
    expect(started()).toEqual(['change', 'change']);
  });
});
