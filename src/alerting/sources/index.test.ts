import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { EventBus } from '../../events/index.js';
import type { DatabaseHaEvents } from '../../postgres-ha/index.js';
import { targetsFromConfig, type ProbeEvents } from '../../probes/index.js';
import type { Store } from '../../store/index.js';
import { createSources, UNSOURCED_CONDITIONS, unsourcedReason } from './index.js';
import { brief, recorder, setup, tempStore } from './testing/fixtures.js';

const YAML = `
services:
  api:
    endpoints: [{ name: a1, url: "http://127.0.0.1:1" }]
`;

let db: Awaited<ReturnType<typeof tempStore>>;
let store: Store;
beforeEach(async () => {
  db = await tempStore();
  store = db.store;
});
afterEach(async () => {
  vi.useRealTimers();
  await db.close();
});

describe('createSources', () => {
  it('composes every source behind one emit and leaves no timer behind after stop', () => {
    vi.useFakeTimers();
    const { config, rules } = setup(YAML);
    const bus = new EventBus<ProbeEvents & DatabaseHaEvents>();
    const source = createSources({ rules, config, bus, store, registry: new Registry(), log: silentLogger(), now: () => 1_000 });
    const rec = recorder();
    const before = vi.getTimerCount();
    source.start(rec.emit);
    expect(vi.getTimerCount()).toBe(before + 6);

    bus.emit('owner.state', { kind: 'service', name: 'api', from: 'up', to: 'down', at: 2_000 });
    expect(brief(rec.take())).toEqual([['api:service_down', 'service/api', true]]);
    expect(source.snapshot().map((s) => s.subject)).toEqual(['service/api']);

    source.reload([], config);
    expect(brief(rec.take())).toEqual([['api:service_down', 'service/api', false]]);

    source.stop();
    expect(vi.getTimerCount()).toBe(before);
    bus.emit('target.state', { target: targetsFromConfig(config)[0]!, from: 'up', to: 'down', at: 3_000, reason: 'x' });
    expect(rec.take()).toEqual([]);
  });

  it('names the conditions nothing watches yet', () => {
    expect(UNSOURCED_CONDITIONS.map((u) => u.condition)).toEqual([]);
    expect(unsourcedReason('certificate_expiring')).toBeUndefined();
    expect(unsourcedReason('drill_failed')).toBeUndefined();
    expect(unsourcedReason('service_down')).toBeUndefined();
  });
});
