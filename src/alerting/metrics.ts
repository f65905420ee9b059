import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface AlertingMetrics {
  incidentsOpen: Gauge<'severity' | 'state'>;
  incidentsOpened: Counter<'severity' | 'rule'>;
  notifications: Counter<'channel' | 'result'>;
  /** Rows sent again after a crash or an expired claim: the receiver may have them twice. */
  resentAfterClaim: Counter<'channel'>;
  deliverySeconds: Histogram<'channel'>;
  timeToAcknowledge: Histogram<'tier'>;
  timeToResolve: Histogram<'tier'>;
  suppressed: Counter<'reason'>;
  outboxPending: Gauge<'channel'>;
  /** Where `bulwark_incidents_open` is counted from, at each scrape (not on every incident change: a storm has thousands open). */
  countOpenFrom(source: () => Iterable<{ severity: string; state: string }>): void;
}

const HUMAN_BUCKETS = [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];

export function registerAlertingMetrics(registry: Registry): AlertingMetrics {
  const registers = [registry];
  let openSource: (() => Iterable<{ severity: string; state: string }>) | null = null;
  return {
    incidentsOpen: new Gauge({
      name: 'bulwark_incidents_open', help: 'Open incidents by severity and state (triggered, acknowledged)', labelNames: ['severity', 'state'], registers,
      collect() {
        if (openSource) setOpenCounts(this, openSource());
      },
    }),
    incidentsOpened: new Counter({ name: 'bulwark_incidents_opened_total', help: 'Incidents opened, by severity and rule', labelNames: ['severity', 'rule'], registers }),
    notifications: new Counter({ name: 'bulwark_alert_notifications_total', help: 'Notification attempts by channel and result (delivered, retry, dead, rate_limited)', labelNames: ['channel', 'result'], registers }),
    resentAfterClaim: new Counter({ name: 'bulwark_alert_notifications_resent_total', help: 'Notifications sent again because an earlier attempt\'s outcome was lost (a crash mid-send): the receiver may hold a duplicate unless it honours Idempotency-Key', labelNames: ['channel'], registers }),
    deliverySeconds: new Histogram({ name: 'bulwark_alert_delivery_seconds', help: 'From a notification queued to its delivery', labelNames: ['channel'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300], registers }),
    timeToAcknowledge: new Histogram({ name: 'bulwark_incident_time_to_acknowledge_seconds', help: 'From an incident opened to its acknowledgement, by tier', labelNames: ['tier'], buckets: HUMAN_BUCKETS, registers }),
    timeToResolve: new Histogram({ name: 'bulwark_incident_time_to_resolve_seconds', help: 'From an incident opened to its resolution, by tier', labelNames: ['tier'], buckets: HUMAN_BUCKETS, registers }),
    suppressed: new Counter({ name: 'bulwark_alerts_suppressed_total', help: 'Alerts that opened no incident, by reason (silence, maintenance, inhibited)', labelNames: ['reason'], registers }),
    outboxPending: new Gauge({ name: 'bulwark_alert_outbox_pending', help: 'Notifications waiting in the outbox, by channel', labelNames: ['channel'], registers }),
    countOpenFrom(source) {
      openSource = source;
    },
  };
}

/** Counted first and set once per label pair: a gauge update per open incident cost more than the rest of a change. */
function setOpenCounts(gauge: Gauge<'severity' | 'state'>, open: Iterable<{ severity: string; state: string }>): void {
  const counts = new Map<string, { severity: string; state: string; n: number }>();
  for (const { severity, state } of open) {
    const key = `${severity}|${state}`;
    const entry = counts.get(key);
    if (entry) entry.n++;
    else counts.set(key, { severity, state, n: 1 });
  }
  gauge.reset();
  for (const { severity, state, n } of counts.values()) gauge.set({ severity, state }, n);
}
