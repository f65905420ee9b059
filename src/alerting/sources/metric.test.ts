import { Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { MetricSource } from './metric.js';
import { brief, recorder, setup } from './testing/fixtures.js';

const YAML = `
alerting:
  rules:
    hot: { when: metric, metric: bulwark_test_queue, labels: { queue: mail }, above: 10 }
    slow: { when: metric, metric: bulwark_test_seconds_count, below: 1 }
`;

describe('MetricSource', () => {
  it('compares each matching series with the bounds and reports changes', async () => {
    const { rules } = setup(YAML);
    const registry = new Registry();
    const queue = new Gauge({ name: 'bulwark_test_queue', help: 'h', labelNames: ['queue', 'host'], registers: [registry] });
    new Histogram({ name: 'bulwark_test_seconds', help: 'h', registers: [registry] });
    queue.set({ queue: 'mail', host: 'a' }, 12);
    queue.set({ queue: 'sms', host: 'a' }, 99);
    const rec = recorder();
    const source = new MetricSource({ rules, registry, log: silentLogger(), now: () => 7_000, intervalMs: 3_600_000 });
    source.start(rec.emit);
    await source.poll();
    const fired = rec.take();
    expect(brief(fired)).toEqual([
      ['hot', 'metric/bulwark_test_queue{host="a",queue="mail"}', true],
      ['slow', 'metric/bulwark_test_seconds_count{}', true],
    ]);
    expect(fired[0]?.summary).toBe('bulwark_test_queue{host="a",queue="mail"} is 12 (above 10)');
    expect(fired[0]?.labels).toEqual({ host: 'a', queue: 'mail', metric: 'bulwark_test_queue' });

    queue.set({ queue: 'mail', host: 'a' }, 3);
    await source.poll();
    expect(brief(rec.take())).toEqual([['hot', 'metric/bulwark_test_queue{host="a",queue="mail"}', false]]);
    source.stop();
  });
});
