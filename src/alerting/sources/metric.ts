import type { Registry } from 'prom-client';
import type { Logger } from '../../core/logger.js';
import type { Signal } from '../types.js';
import type { RuleLike } from './common.js';
import { PolledSource } from './polled.js';
import { matching, readSamples, type Sample } from './registry-read.js';

export interface MetricSourceOptions {
  rules: readonly RuleLike[];
  registry: Pick<Registry, 'getSingleMetric'>;
  log: Logger;
  now: () => number;
  intervalMs?: number;
}

/** `metric/bulwark_x{a="1",b="2"}`: the series, labels sorted so one series is one subject. */
export function seriesSubject(sample: Sample): string {
  const pairs = Object.entries(sample.labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `metric/${sample.name}{${pairs.join(',')}}`;
}

function thresholdSignal(rule: RuleLike, sample: Sample, at: number): Signal {
  const { above, below } = rule.thresholds;
  const high = above !== undefined && sample.value > above;
  const low = below !== undefined && sample.value < below;
  const subject = seriesSubject(sample);
  const bounds = [above !== undefined ? `above ${above}` : '', below !== undefined ? `below ${below}` : ''].filter(Boolean).join(' or ');
  return {
    rule: rule.name, subject, firing: high || low, at,
    summary: `${subject.slice('metric/'.length)} is ${sample.value} (${high || low ? '' : 'not '}${bounds})`,
    labels: { ...sample.labels, metric: sample.name },
  };
}

/** `metric` rules: thresholds on any metric of Bulwark's own registry, per matching series. */
export class MetricSource extends PolledSource {
  constructor(private readonly options: MetricSourceOptions) {
    super({ conditions: ['metric'], intervalMs: options.intervalMs ?? 10_000, log: options.log, failure: 'reading metrics for metric rules', now: options.now }, options.rules);
  }

  protected async evaluate(now: number): Promise<Signal[]> {
    const evaluated: Signal[] = [];
    const cache = new Map<string, Sample[]>();
    for (const rule of this.index.rules) {
      const { metric, labels, above, below } = rule.thresholds;
      if (metric === undefined || (above === undefined && below === undefined)) continue;
      if (!cache.has(metric)) cache.set(metric, await readSamples(this.options.registry, metric));
      evaluated.push(...matching(cache.get(metric) ?? [], labels).map((s) => thresholdSignal(rule, s, now)));
    }
    return evaluated;
  }
}
