import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ProbeMetrics {
  up: Gauge<'target' | 'owner' | 'member'>;
  duration: Histogram<'owner' | 'type'>;
  checks: Counter<'owner' | 'result'>;
  lag: Histogram;
  skipped: Counter;
  ownerUp: Gauge<'kind' | 'name'>;
  agentUp: Gauge<'agent' | 'zone'>;
  droppedResults: Gauge;
}

export function registerProbeMetrics(registry: Registry): ProbeMetrics {
  const registers = [registry];
  return {
    up: new Gauge({ name: 'bulwark_probe_up', help: 'Target health after rise/fall and quorum: 1 up, 0 down (absent while unknown)', labelNames: ['target', 'owner', 'member'], registers }),
    duration: new Histogram({
      name: 'bulwark_probe_duration_seconds', help: 'Duration of each check', labelNames: ['owner', 'type'], registers,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    checks: new Counter({ name: 'bulwark_probe_checks_total', help: 'Checks run, by result', labelNames: ['owner', 'result'], registers }),
    lag: new Histogram({
      name: 'bulwark_probe_schedule_lag_seconds', help: 'How late checks started after they were due', registers,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    }),
    skipped: new Counter({ name: 'bulwark_probe_skipped_total', help: 'Runs skipped because the previous run of the same check was still going', registers }),
    ownerUp: new Gauge({ name: 'bulwark_service_up', help: 'Service or database health: 1 up, 0 down (absent while unknown)', labelNames: ['kind', 'name'], registers }),
    agentUp: new Gauge({ name: 'bulwark_agent_up', help: 'Probe agents: 1 reporting, 0 silent', labelNames: ['agent', 'zone'], registers }),
    droppedResults: new Gauge({ name: 'bulwark_probe_results_dropped', help: 'Probe results dropped because the store could not keep up', registers }),
  };
}
