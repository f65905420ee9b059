import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import type { Store } from '../../store/index.js';
import { BurnSource } from './burn.js';
import { brief, recorder, setup, tempStore } from './testing/fixtures.js';

const M = 60_000;
const D = 24 * 60 * M;
const T0 = Date.UTC(2026, 2, 10, 12);

const YAML = `
sla_tiers:
  premium: { availability: 99.9%, rto: 5m, rpo: 1m }
services:
  api:
    tier: premium
    endpoints: [{ url: "http://127.0.0.1:1" }]
  untiered:
    endpoints: [{ url: "http://127.0.0.1:2" }]
`;

let db: Awaited<ReturnType<typeof tempStore>>;
let store: Store;
beforeEach(async () => {
  db = await tempStore();
  store = db.store;
});
afterEach(() => db.close());

describe('BurnSource', () => {
  it('pages on a fast burn, keeps the ticket-level alert longer, and clears each when its windows recover', async () => {
    const { config, rules } = setup(YAML);
    await store.recordStateChange({ subjectKind: 'service', subject: 'api', from: 'unknown', to: 'up', at: T0 - 10 * D });
    await store.recordStateChange({ subjectKind: 'service', subject: 'api', from: 'up', to: 'down', at: T0 - 10 * M });
    await store.recordStateChange({ subjectKind: 'service', subject: 'untiered', from: 'up', to: 'down', at: T0 - 10 * M });
    let now = T0;
    const rec = recorder();
    const source = new BurnSource({ rules, config, store, log: silentLogger(), now: () => now, intervalMs: 3_600_000 });
    source.start(rec.emit);
    await source.poll();
    const fired = rec.take();
    expect(brief(fired)).toEqual([
      ['api:error_budget_burn:fast', 'service/api', true],
      ['api:error_budget_burn:slow', 'service/api', true],
    ]);
    expect(fired[0]?.labels).toEqual({ service: 'api', tier: 'premium', window: '1h/5m' });
    expect(fired[0]?.summary).toMatch(/^api is burning its error budget 166\.7× over 1h and 1000\.0× over 5m/);

    await store.recordStateChange({ subjectKind: 'service', subject: 'api', from: 'down', to: 'up', at: T0 });
    now = T0 + 10 * M;
    await source.poll();
    expect(rec.take()).toEqual([]);

    now = T0 + 40 * M;
    await source.poll();
    expect(brief(rec.take())).toEqual([['api:error_budget_burn:fast', 'service/api', false]]);
    expect(source.snapshot().map((s) => s.rule)).toEqual(['api:error_budget_burn:slow']);
    source.stop();
  });
});
