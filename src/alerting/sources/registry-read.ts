import type { Registry } from 'prom-client';

export interface Sample {
  /** The series' name: the metric's, or a histogram's `_bucket`, `_sum`, `_count`. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/**
 * The current samples of one metric of the registry (running its collect
 * functions), or none when it is not registered. A histogram's or summary's
 * series may be named directly (`x_count`).
 */
export async function readSamples(registry: Pick<Registry, 'getSingleMetric'>, name: string): Promise<Sample[]> {
  let metric = registry.getSingleMetric(name);
  let series: string | undefined;
  if (!metric) {
    const suffix = SUFFIXES.find((s) => name.endsWith(s));
    if (!suffix) return [];
    metric = registry.getSingleMetric(name.slice(0, -suffix.length));
    series = name;
    if (!metric) return [];
  }
  const data = await metric.get();
  const samples = data.values.map((v) => ({
    name: (v as { metricName?: string }).metricName ?? data.name,
    labels: Object.fromEntries(Object.entries(v.labels).flatMap(([k, l]) => (l === undefined ? [] : [[k, String(l)]]))),
    value: v.value,
  }));
  return series === undefined ? samples : samples.filter((s) => s.name === series);
}

/** Samples whose labels include every one of `wanted`. */
export function matching(samples: readonly Sample[], wanted: Readonly<Record<string, string>> = {}): Sample[] {
  return samples.filter((s) => Object.entries(wanted).every(([k, v]) => s.labels[k] === v));
}

export function formatBytes(bytes: number): string {
  const units: Array<[string, number]> = [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]];
  for (const [unit, size] of units) if (Math.abs(bytes) >= size) return `${(bytes / size).toFixed(1)} ${unit}`;
  return `${Math.round(bytes)} B`;
}
