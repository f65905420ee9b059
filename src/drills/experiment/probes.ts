/**
 * The steady-state probes of an experiment: each answers within its tolerance
 * or says what it saw instead. A probe never throws: a broken probe is a
 * deviation from the steady state, reported with its reason.
 */
import type { BulwarkConfig, ExperimentProbe } from '../../config/index.js';
import { errorMessage } from '../../core/errors.js';
import { fmt } from '../grade.js';
import { pidsListeningOn } from '../faults/process.js';
import { gatewayUrl } from '../zone-plan.js';

export interface ProbeResult { probe: string; ok: boolean; detail: string; durationMs: number }

export async function runProbe(config: BulwarkConfig, probe: ExperimentProbe, signal?: AbortSignal): Promise<ProbeResult> {
  const began = performance.now();
  const label = describeProbe(config, probe);
  try {
    const { ok, detail } = await check(config, probe, signal);
    return { probe: label, ok, detail, durationMs: Math.round(performance.now() - began) };
  } catch (err) {
    return { probe: label, ok: false, detail: errorMessage(err), durationMs: Math.round(performance.now() - began) };
  }
}

/** What the probe checks, without secrets (a SQL probe names its host and database, never its URL). */
export function describeProbe(config: BulwarkConfig, p: ExperimentProbe): string {
  switch (p.probe) {
    case 'http': return `http GET ${probeUrl(config, p)}: ${p.status ?? 'status < 500'} within ${fmt(p.max_latency)}`;
    case 'sql': return `sql on ${safeDsn(p.url)}: ${p.query} ${bounds(p)}`;
    case 'metric': return `metric ${p.name} at ${p.url} ${bounds(p)}`;
    case 'process': return `process listening on port ${p.port}`;
  }
}

function bounds(p: { equals?: string | number; min?: number; max?: number }): string {
  return [p.equals !== undefined ? `= ${p.equals}` : '', p.min !== undefined ? `≥ ${p.min}` : '', p.max !== undefined ? `≤ ${p.max}` : ''].filter(Boolean).join(', ') || '(answers)';
}

function probeUrl(config: BulwarkConfig, p: Extract<ExperimentProbe, { probe: 'http' }>): string {
  if (p.url !== undefined) return p.url;
  return gatewayUrl(config.services[p.service!]?.listen, p.path, 'the http probe', p.service!);
}

function safeDsn(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 5432}${u.pathname}`;
}

async function check(config: BulwarkConfig, p: ExperimentProbe, signal?: AbortSignal): Promise<{ ok: boolean; detail: string }> {
  switch (p.probe) {
    case 'http': {
      const began = performance.now();
      const res = await fetch(probeUrl(config, p), { signal: anyOf(signal, p.max_latency) });
      await res.arrayBuffer();
      const ms = Math.round(performance.now() - began);
      const ok = p.status !== undefined ? res.status === p.status : res.status < 500;
      return { ok, detail: `HTTP ${res.status} in ${fmt(ms)}` };
    }
    case 'sql': return sqlValue(p, signal);
    case 'metric': {
      const res = await fetch(p.url, { signal: anyOf(signal, 5_000) });
      const value = seriesValue(await res.text(), p.name);
      if (value === undefined) return { ok: false, detail: `no series ${p.name} at ${p.url}` };
      return { ok: within(value, p), detail: `${p.name} = ${value}` };
    }
    case 'process': {
      const pids = await pidsListeningOn(p.port);
      return { ok: pids.length > 0, detail: pids.length > 0 ? `pid ${pids.join(', ')}` : 'nothing listens' };
    }
  }
}

async function sqlValue(p: Extract<ExperimentProbe, { probe: 'sql' }>, signal?: AbortSignal): Promise<{ ok: boolean; detail: string }> {
  // Loaded on use: only SQL probes need the pg client.
  const { withPgClient } = await import('../../core/pg.js');
  const u = new URL(p.url);
  const target = { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) || undefined, database: u.pathname.slice(1) || undefined };
  const rows = await withPgClient(target, { applicationName: 'bulwark-experiment', connectTimeoutMs: p.timeout, queryTimeoutMs: p.timeout, signal }, async (c) => (await c.query({ text: p.query, rowMode: 'array' })).rows as unknown[][]);
  const value = rows[0]?.[0];
  if (value === undefined) return { ok: false, detail: 'no rows' };
  if (p.equals !== undefined) return { ok: String(value) === String(p.equals), detail: `${String(value)}` };
  const n = Number(value);
  return { ok: Number.isFinite(n) && within(n, p), detail: String(value) };
}

function within(value: number, p: { min?: number; max?: number }): boolean {
  return (p.min === undefined || value >= p.min) && (p.max === undefined || value <= p.max);
}

/** The value of one series in Prometheus' text format: the line that starts with `name` then a space. */
export function seriesValue(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!rest.startsWith(' ')) continue;
    const value = Number(rest.trim().split(/\s+/)[0]);
    if (!Number.isNaN(value)) return value;
  }
  return undefined;
}

function anyOf(signal: AbortSignal | undefined, ms: number): AbortSignal {
  return signal ? AbortSignal.any([signal, AbortSignal.timeout(ms)]) : AbortSignal.timeout(ms);
}
