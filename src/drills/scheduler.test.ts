import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.js';
import { openSqliteStore, type Store } from '../store/index.js';
import type { DrillLauncher } from './launch.js';
import { DrillScheduler } from './scheduler.js';
import { configFrom } from './testing/world.js';

/** Every second: a six-field cron has seconds. */
const YAML = `
dr_testing:
  restore: { type: backup_restoration, schedule: "* * * * * *" }
  latency_injection: { schedule: "* * * * * *" }
`;

async function until<T>(check: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('DrillScheduler', () => {
  let dir: string;
  let store: Store;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-drill-scheduler-'));
    store = await openSqliteStore({ path: join(dir, 'bulwark.db') });
    await store.migrate();
  });
  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('launches a due drill, skips slots while it runs and the slots of a type not built, records both, and aborts the drill in flight at stop', async () => {
    const launched: string[] = [];
    let release!: () => void;
    const launch: DrillLauncher = (drill, signal) => new Promise((resolve) => {
      launched.push(drill);
      release = () => resolve({ id: 'run-1', outcome: 'passed' });
      signal.addEventListener('abort', () => resolve({ id: 'run-1', outcome: 'aborted' }), { once: true });
    });
    const scheduler = new DrillScheduler({ config: configFrom(YAML), dataDir: dir, store, log: silentLogger(), launch });
    await scheduler.start();
    const view = (name: string) => scheduler.status().find((s) => s.drill === name)!;
    expect(view('restore').next_run).toMatch(/^\d{4}-/);

    await until(() => (launched.length > 0 ? true : undefined), 'a launch');
    expect(launched).toEqual(['restore']);
    expect(view('restore').running).toBe(true);
    const busy = await until(() => view('restore').last_skip ?? undefined, 'a slot skipped while the drill runs');
    expect(busy.reason).toBe('drill "restore" is running; drills run one at a time');
    const unbuilt = await until(() => view('latency_injection').last_skip ?? undefined, 'a skipped unbuilt drill');
    expect(unbuilt.reason).toMatch(/type latency_injection, which bulwark cannot run yet/);
    expect(launched).toEqual(['restore']);

    release();
    await scheduler.inFlight;
    const events = await until(async () => {
      const found = await store.recentEvents({ limit: 100, subsystem: 'drills' });
      return found.some((e) => e.kind === 'drill.finished') ? found : undefined;
    }, 'drill.finished');
    expect(events.find((e) => e.kind === 'drill.finished')).toMatchObject({ subject: 'drill/restore', data: { run: 'run-1', outcome: 'passed' } });
    expect(events.some((e) => e.kind === 'drill.skipped' && e.subject === 'drill/latency_injection')).toBe(true);

    await until(() => (launched.length > 1 ? true : undefined), 'the next launch');
    await scheduler.stop(AbortSignal.timeout(5_000));
    expect(scheduler.inFlight).toBeUndefined();
    const last = (await store.recentEvents({ limit: 100, subsystem: 'drills' })).find((e) => e.kind === 'drill.finished');
    expect(last?.data).toMatchObject({ outcome: 'aborted' });
  }, 60_000);
});
