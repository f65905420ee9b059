import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { BulwarkConfig } from '../config/index.js';
import type { Harness } from './testing/harness.js';
import type { Signal } from './types.js';
import { Clock, M, S, T0, alertingConfig, countBy, endpointSignal, openHarness, removeTempDirs, serviceSignal } from './testing/harness.js';

/**
 * The engine against a real SQLite store with a clock the test moves: what
 * opens an incident, what holds one back, when it resolves, whom it pages and
 * when. Every number below is what the outbox and the timeline hold.
 */

const POLICIES = {
  // One level, no repeat: each incident pages chat and pager once.
  notify: [{ notify: ['chat', 'pager'], after: 0 }],
  // Seed 000's shape: levels at 0, 5 min, 20 min; one cycle is 50 min; repeated once.
  page: { levels: [{ level_1: 'chat', timeout: '5 minutes' }, { level_2: 'manager', timeout: '15 minutes' }, { level_3: 'cto', timeout: '30 minutes' }], repeat: 1 },
};
const RULES = {
  'api-down': { when: 'service_down', severity: 'critical', escalation: 'page', services: ['api'] },
  'ep-down': { when: 'endpoint_down', severity: 'warning', escalation: 'notify' },
};

function config(extra: Record<string, unknown> = {}, top: Record<string, unknown> = {}): BulwarkConfig {
  return alertingConfig({ rules: RULES, escalation_policies: POLICIES, ...extra }, top);
}

const harnesses: Harness[] = [];
async function open(cfg: BulwarkConfig = config(), options: Parameters<typeof openHarness>[1] = {}): Promise<Harness> {
  const h = await openHarness(cfg, options);
  harnesses.push(h);
  return h;
}
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(harnesses.splice(0).map((h) => h.close()));
});
afterAll(removeTempDirs);

const rows = async (h: Harness, incidentId?: number) => (await h.outbox(incidentId)).map((r) => `${r.kind} ${r.channel}`);
const timeline = async (h: Harness, id: number) => countBy(await h.store.alerting.incidentEvents(id), (e) => e.kind);
const alertEvents = async (h: Harness) => (await h.store.recentEvents({ limit: 100, subsystem: 'alerting' })).reverse();
function area(rule: string, what: 'zone' | 'region', name: string, firing: boolean, at: number): Signal {
  const labels: Record<string, string> = what === 'zone' ? { zone: name, region: 'r1' } : { region: name };
  return { rule, subject: `${what}/${name}`, firing, at, summary: `${what} ${name}`, labels };
}

describe('flapping', () => {
  it('an endpoint flapping every 2 s for a minute is one incident, resolved only after the flapping hold', async () => {
    const h = await open();
    for (let i = 0; i < 60; i++) {
      h.clock.set(T0 + i * 2 * S);
      await h.signal(endpointSignal('ep-down', 'api', '1', 'a', i % 2 === 0, h.clock.t));
      await h.tick();
    }
    const lastClear = T0 + 118 * S;
    const incidents = await h.store.alerting.listIncidents({ limit: 100 });
    expect(incidents).toHaveLength(1);
    const [incident] = incidents;
    expect(incident).toMatchObject({ key: 'ep-down:a', state: 'triggered', flapping: true, alerts: [], clearSince: lastClear });
    expect(await timeline(h, incident!.id)).toEqual({ opened: 1, notified: 1, alert_cleared: 30, recurred: 29, flapping: 1 });

    // Not flapping it would resolve after resolve_after (30 s); flapping, it holds 5 minutes.
    await h.at(lastClear + 30 * S);
    await h.at(lastClear + 5 * M - 1);
    expect((await h.store.alerting.incident(incident!.id))!.state).toBe('triggered');
    await h.at(lastClear + 5 * M);
    expect(await h.store.alerting.incident(incident!.id)).toMatchObject({ state: 'resolved', resolvedAt: lastClear + 5 * M, resolvedBy: 'bulwark' });

    expect(await rows(h)).toEqual(['trigger chat', 'trigger pager', 'resolve chat', 'resolve pager', 'review_due chat', 'review_due pager']);
  });

  it('four endpoints of one zone failing together, once, are not flapping', async () => {
    const h = await open(config({}, { services: { api: { endpoints: ['a', 'a', 'a', 'a', 'a'].map((zone, i) => ({ url: `http://127.0.0.1:${9001 + i}`, zone })) } } }));
    await h.signal(...['1', '2', '3', '4', '5'].map((e) => endpointSignal('ep-down', 'api', e, 'a', true, T0)));
    const [incident] = await h.store.alerting.openIncidents();
    expect(incident).toMatchObject({ alerts: ['endpoint/api/1', 'endpoint/api/2', 'endpoint/api/3', 'endpoint/api/4', 'endpoint/api/5'], flapping: false });
    h.clock.set(T0 + 10 * S);
    await h.signal(...['1', '2', '3', '4', '5'].map((e) => endpointSignal('ep-down', 'api', e, 'a', false, h.clock.t)));
    await h.at(T0 + 40 * S);
    expect((await h.store.alerting.incident(incident!.id))!.state).toBe('resolved');
  });
});

describe('grouping', () => {
  it('three endpoints down in one zone are one incident that resolves after all three cleared and resolve_after', async () => {
    const h = await open();
    for (const [i, e] of ['1', '2', '3'].entries()) {
      h.clock.set(T0 + i * S);
      await h.signal(endpointSignal('ep-down', 'api', e, 'a', true, h.clock.t));
    }
    h.clock.set(T0 + 3 * S);
    await h.signal(endpointSignal('ep-down', 'api', '4', 'b', true, h.clock.t));
    const open1 = await h.store.alerting.openIncidents();
    expect(open1.map((i) => [i.key, i.alerts.length, i.labels])).toEqual([
      ['ep-down:a', 3, { zone: 'a', region: 'r1' }],
      ['ep-down:b', 1, { zone: 'b', region: 'r1' }],
    ]);
    const zoneA = open1[0]!;

    h.clock.set(T0 + 10 * S);
    await h.signal(endpointSignal('ep-down', 'api', '1', 'a', false, h.clock.t));
    h.clock.set(T0 + 20 * S);
    await h.signal(endpointSignal('ep-down', 'api', '2', 'a', false, h.clock.t));
    await h.at(T0 + 55 * S);
    expect(await h.store.alerting.incident(zoneA.id)).toMatchObject({ state: 'triggered', alerts: ['endpoint/api/3'], clearSince: null });

    h.clock.set(T0 + 60 * S);
    await h.signal(endpointSignal('ep-down', 'api', '3', 'a', false, h.clock.t));
    await h.at(T0 + 90 * S - 1);
    expect((await h.store.alerting.incident(zoneA.id))!.state).toBe('triggered');
    await h.at(T0 + 90 * S);
    expect(await h.store.alerting.incident(zoneA.id)).toMatchObject({ state: 'resolved', resolvedAt: T0 + 90 * S });
    expect(await timeline(h, zoneA.id)).toEqual({ opened: 1, notified: 1, alert_added: 2, alert_cleared: 3, resolved: 1 });
    expect(await rows(h, zoneA.id)).toEqual(['trigger chat', 'trigger pager', 'resolve chat', 'resolve pager', 'review_due chat', 'review_due pager']);
  });

  it('a zone-grouped incident of a rule about one service keeps that service (and its tier) for its messages', async () => {
    const rules = { 'api-eps': { when: 'endpoint_down', escalation: 'notify', services: ['api'] } };
    const h = await open(alertingConfig({ rules, escalation_policies: POLICIES }, { sla_tiers: { gold: { availability: '99.9%', rto: '4h', rpo: '1h' } }, services: {
      api: { tier: 'gold', endpoints: [{ url: 'http://127.0.0.1:9001', zone: 'a' }, { url: 'http://127.0.0.1:9002', zone: 'a' }] },
    } }));
    const labels = { service: 'api', zone: 'a', region: 'r1', tier: 'gold' };
    await h.signal(...['1', '2'].map((e) => ({ ...endpointSignal('api-eps', 'api', e, 'a', true, T0), labels: { ...labels, endpoint: e } })));
    const [incident] = await h.store.alerting.openIncidents();
    expect(incident).toMatchObject({ key: 'api-eps:a', alerts: ['endpoint/api/1', 'endpoint/api/2'], labels });
    expect((await h.outbox()).map((r) => (r.message as { fields: Record<string, string> }).fields.service)).toEqual(['api', 'api']);
  });
});

describe('inhibition', () => {
  it('a service down holds back its endpoints\' alerts, audited, and lets a still-firing one open when it clears', async () => {
    const h = await open();
    await h.signal(serviceSignal('api-down', 'api', true, T0));
    h.clock.set(T0 + S);
    await h.signal(endpointSignal('ep-down', 'api', '1', 'a', true, h.clock.t));
    expect((await h.store.alerting.openIncidents()).map((i) => i.key)).toEqual(['api-down:service/api']);
    const inhibited = (await alertEvents(h)).filter((e) => e.kind === 'alert.inhibited');
    expect(inhibited).toHaveLength(1);
    expect(inhibited[0]).toMatchObject({ subject: 'endpoint/api/1', data: { rule: 'ep-down', by: 'service/api' } });
    expect(await h.registry.getSingleMetric('bulwark_alerts_suppressed_total')!.get()).toMatchObject({ values: [{ labels: { reason: 'inhibited' }, value: 1 }] });

    h.clock.set(T0 + M);
    await h.signal(serviceSignal('api-down', 'api', false, h.clock.t));
    const now = await h.store.alerting.openIncidents();
    expect(now.map((i) => [i.key, i.alerts, i.clearSince])).toEqual([
      ['api-down:service/api', [], T0 + M],
      ['ep-down:a', ['endpoint/api/1'], null],
    ]);
    expect(await rows(h, now[1]!.id)).toEqual(['trigger chat', 'trigger pager']);
  });

  it('an endpoint incident already open gives its alert up when the whole service goes down', async () => {
    const h = await open();
    await h.signal(endpointSignal('ep-down', 'api', '1', 'a', true, T0));
    h.clock.set(T0 + S);
    await h.signal(serviceSignal('api-down', 'api', true, h.clock.t));
    const incidents = await h.store.alerting.openIncidents();
    expect(incidents.map((i) => [i.key, i.alerts])).toEqual([['ep-down:a', []], ['api-down:service/api', ['service/api']]]);
    await h.at(T0 + 31 * S);
    expect((await h.store.alerting.openIncidents()).map((i) => i.key)).toEqual(['api-down:service/api']);
  });
});

describe('inhibition by area', () => {
  it('a zone down holds back its endpoints; a region down holds back the zone; each lets go only when nothing broader still holds', async () => {
    const rules = {
      ...RULES,
      'zone-down': { when: 'zone_down', escalation: 'notify' },
      'region-down': { when: 'region_down', escalation: 'notify' },
    };
    const h = await open(alertingConfig({ rules, escalation_policies: POLICIES }));
    await h.signal(area('region-down', 'region', 'r1', true, T0));
    await h.signal(area('zone-down', 'zone', 'a', true, T0), endpointSignal('ep-down', 'api', '1', 'a', true, T0));
    expect([...h.ctx.open.values()].map((i) => i.key)).toEqual(['region-down:region/r1']);
    h.clock.set(T0 + M);
    await h.signal(area('region-down', 'region', 'r1', false, h.clock.t));
    // The zone is no longer held; the endpoint still is, by the zone.
    expect([...h.ctx.open.values()].map((i) => [i.key, i.alerts.length])).toEqual([['region-down:region/r1', 0], ['zone-down:zone/a', 1]]);
    h.clock.set(T0 + 2 * M);
    await h.signal(area('zone-down', 'zone', 'a', false, h.clock.t));
    expect([...h.ctx.open.values()].map((i) => [i.key, i.alerts.length])).toEqual([['region-down:region/r1', 0], ['zone-down:zone/a', 0], ['ep-down:a', 1]]);
    const inhibited = (await alertEvents(h)).filter((e) => e.kind === 'alert.inhibited').map((e) => [e.subject, (e.data as { by: string }).by]);
    expect(inhibited).toEqual([['zone/a', 'region/r1'], ['endpoint/api/1', 'region/r1']]);
  });
});

describe('inhibition chains', () => {
  it('endpoints, then their zone, then the region go down and the region comes back first: no endpoint incident opens again', async () => {
    const rules = { ...RULES, 'zone-down': { when: 'zone_down', escalation: 'notify' }, 'region-down': { when: 'region_down', escalation: 'notify' } };
    const h = await open(alertingConfig({ rules, escalation_policies: POLICIES }));
    await h.signal(endpointSignal('ep-down', 'api', '1', 'a', true, T0));
    h.clock.set(T0 + S);
    await h.signal(area('zone-down', 'zone', 'a', true, h.clock.t));
    h.clock.set(T0 + 2 * S);
    await h.signal(area('region-down', 'region', 'r1', true, h.clock.t));
    await h.at(T0 + M);
    expect([...h.ctx.open.values()].map((i) => i.key)).toEqual(['region-down:region/r1']);
    h.clock.set(T0 + 2 * M);
    await h.signal(area('region-down', 'region', 'r1', false, h.clock.t));
    expect([...h.ctx.open.values()].map((i) => [i.key, i.alerts])).toEqual([['region-down:region/r1', []], ['zone-down:zone/a', ['zone/a']]]);
    // The endpoint paged once, before its zone went down; it opened nothing when the region came back.
    const endpointRows = (await h.outbox()).filter((r) => (r.message as { dedupKey: string }).dedupKey === 'ep-down:a');
    expect(countBy(endpointRows, (r) => `${r.kind} ${r.incidentId}`)).toEqual({ 'trigger 1': 2, 'resolve 1': 2, 'review_due 1': 2 });
  });
});

describe('silences and maintenance windows', () => {
  it('a silence suppresses, audited; once it is expired a new firing opens an incident', async () => {
    const h = await open();
    const silence = await h.actions.addSilence({ matchers: { service: 'api' }, durationMs: 60 * M, createdBy: 'alice', comment: 'deploy' });
    await h.signal(serviceSignal('api-down', 'api', true, T0));
    expect(await h.store.alerting.openIncidents()).toEqual([]);
    expect((await alertEvents(h)).map((e) => [e.kind, e.subject])).toEqual([['silence.added', `silence/${silence.id}`], ['alert.silenced', 'service/api']]);
    expect((await alertEvents(h))[1]!.data).toMatchObject({ silence: silence.id });

    h.clock.set(T0 + M);
    await h.signal(serviceSignal('api-down', 'api', false, h.clock.t));
    await h.actions.expireSilence(silence.id, 'alice');
    h.clock.set(T0 + 2 * M);
    await h.signal(serviceSignal('api-down', 'api', true, h.clock.t));
    expect((await h.store.alerting.openIncidents()).map((i) => i.key)).toEqual(['api-down:service/api']);
    expect((await alertEvents(h)).map((e) => e.kind)).toEqual(['silence.added', 'alert.silenced', 'silence.expired']);
  });

  it('an alert still firing when its silence is expired opens its incident then', async () => {
    const h = await open();
    const silence = await h.actions.addSilence({ matchers: { service: 'api' }, durationMs: 60 * M, createdBy: 'alice', comment: 'deploy' });
    await h.signal(serviceSignal('api-down', 'api', true, T0));
    h.clock.set(T0 + M);
    await h.actions.expireSilence(silence.id, 'alice');
    const incidents = await h.store.alerting.openIncidents();
    expect(incidents.map((i) => [i.key, i.openedAt])).toEqual([['api-down:service/api', T0 + M]]);
    expect(await rows(h)).toEqual(['trigger chat']);
  });

  it('a maintenance window covering now suppresses, audited; an alert still firing when it ends opens', async () => {
    const window = { name: 'upgrade', services: ['api'], start: new Date(T0 - M).toISOString(), duration: '1h' };
    const h = await open(config({}, { maintenance_windows: [window] }));
    await h.signal(serviceSignal('api-down', 'api', true, T0));
    await h.signal(endpointSignal('ep-down', 'web', '1', 'b', true, T0));
    expect((await h.store.alerting.openIncidents()).map((i) => i.key)).toEqual(['ep-down:b']);
    const held = (await alertEvents(h)).filter((e) => e.kind === 'alert.in_maintenance');
    expect(held.map((e) => [e.subject, (e.data as { window: string }).window])).toEqual([['service/api', 'upgrade']]);

    h.clock.set(T0 + 59 * M - 1);
    await h.engine.refreshSilences();
    expect(await h.store.alerting.openIncidents()).toHaveLength(1);
    h.clock.set(T0 + 59 * M);
    await h.engine.refreshSilences();
    expect((await h.store.alerting.openIncidents()).map((i) => [i.key, i.openedAt])).toEqual([['ep-down:b', T0], ['api-down:service/api', T0 + 59 * M]]);
  });
});

describe('escalation', () => {
  async function paged(h: Harness): Promise<[string, number][]> {
    return (await h.outbox()).map((r) => [`${r.kind} ${r.channel}`, (r.createdAt - T0) / M]);
  }

  it('notifies each level at its time, repeats the policy once, then stops', async () => {
    const h = await open();
    await h.signal(serviceSignal('api-down', 'api', true, T0));
    for (const minute of [4.99, 5, 19, 20, 49, 50, 55, 70, 100, 200]) await h.at(T0 + minute * M);
    expect(await paged(h)).toEqual([
      ['trigger chat', 0], ['escalate manager', 5], ['escalate cto', 20],
      ['escalate chat', 50], ['escalate manager', 55], ['escalate cto', 70],
    ]);
    const [incident] = await h.store.alerting.openIncidents();
    expect(incident).toMatchObject({ state: 'triggered', nextAt: null, cycle: 1 });
    expect((await h.outbox()).map((r) => r.idempotencyKey)).toEqual(
      ['c0l1.chat', 'c0l2.manager', 'c0l3.cto', 'c1l1.chat', 'c1l2.manager', 'c1l3.cto'].map((k) => `incident-${incident!.id}.${k}`),
    );
  });

  it('an acknowledgement stops it, tells those paged, and asks the owner for updates until a note resets the reminder', async () => {
    const h = await open();
    await h.signal(serviceSignal('api-down', 'api', true, T0));
    await h.at(T0 + 5 * M);
    h.clock.set(T0 + 6 * M);
    const [incident] = await h.store.alerting.openIncidents();
    const acked = await h.actions.acknowledge(incident!.id, 'alice');
    expect(acked).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'alice', owner: 'alice', nextAt: null, reminderAt: T0 + 36 * M });
    for (const minute of [20, 35.99, 36, 50]) await h.at(T0 + minute * M);
    h.clock.set(T0 + 40 * M);
    const noted = await h.actions.note(incident!.id, 'alice', 'failing over to the standby');
    expect(noted.reminderAt).toBe(T0 + 70 * M);
    for (const minute of [66, 69.99, 70]) await h.at(T0 + minute * M);
    expect(await paged(h)).toEqual([
      ['trigger chat', 0], ['escalate manager', 5],
      ['acknowledge chat', 6], ['acknowledge manager', 6],
      ['update_due chat', 36], ['update_due manager', 36],
      ['update_due chat', 70], ['update_due manager', 70],
    ]);
    expect((await h.store.alerting.incident(incident!.id))!.reminderAt).toBe(T0 + 100 * M);
  });
});

describe('store failures', () => {
  it('an alert whose incident could not be written opens it at the next refresh', async () => {
    const h = await open();
    vi.spyOn(h.store.alerting, 'openIncident').mockRejectedValueOnce(new Error('connection terminated'));
    await h.signal(serviceSignal('api-down', 'api', true, T0));
    expect(await h.store.alerting.openIncidents()).toEqual([]);
    h.clock.set(T0 + 15 * S);
    await h.engine.refreshSilences();
    expect((await h.store.alerting.openIncidents()).map((i) => [i.key, i.openedAt, i.alerts])).toEqual([['api-down:service/api', T0 + 15 * S, ['service/api']]]);
    expect(await rows(h)).toEqual(['trigger chat']);
    await h.engine.refreshSilences();
    expect(await rows(h)).toEqual(['trigger chat']);
  });
});

describe('escalation targets', () => {
  it('reaches a role through notification_channels, a schedule\'s on-call person and a person, each by their own channel', async () => {
    const smtp = { host: '127.0.0.1', port: 2525, from: 'alerts@example.com', starttls: false };
    const h = await open(config({
      channels: { pager: { webhook: { url: 'http://127.0.0.1:9/pager' } }, chat: { webhook: { url: 'http://127.0.0.1:9/chat' } }, mail: { email: { smtp, to: ['ops@example.com'] } } },
      people: { alice: { email: 'alice@example.com', channels: ['mail'] }, bob: { email: 'bob@example.com', channels: ['mail', 'chat'] } },
      // Daily shifts from 2026-01-01 09:00 UTC: alice, bob, alice, bob, alice (2026-01-05 09:00 to 01-06 09:00).
      schedules: { primary: { people: ['alice', 'bob'], rotation: '1d', handoff: '09:00', start: '2026-01-01T00:00:00Z' } },
      notification_channels: [{ pager: 'critical alerts' }],
      escalation_policies: { ...POLICIES, page: [{ level_1: 'on_call_engineer', timeout: '5m' }, { level_2: 'primary', timeout: '5m' }, { level_3: 'bob', timeout: '5m' }] },
    }));
    await h.signal(serviceSignal('api-down', 'api', true, T0));
    await h.at(T0 + 5 * M);
    await h.at(T0 + 10 * M);
    const sent = (await h.outbox()).map((r) => {
      const m = r.message as { to?: string[]; fields: Record<string, string> };
      return [r.kind, r.channel, m.to ?? null, m.fields.recipient, m.fields.via];
    });
    expect(sent).toEqual([
      ['trigger', 'pager', null, 'on_call_engineer', 'role:on_call_engineer'],
      ['escalate', 'mail', ['alice@example.com'], 'alice', 'schedule:primary'],
      ['escalate', 'mail', ['bob@example.com'], 'bob', 'person'],
      ['escalate', 'chat', null, 'bob', 'person'],
    ]);

    // The owner, a person the configuration reaches, gets the update reminder alone.
    h.clock.set(T0 + 11 * M);
    const [incident] = await h.store.alerting.openIncidents();
    await h.actions.acknowledge(incident!.id, 'alice');
    await h.at(T0 + 41 * M);
    expect((await h.outbox()).slice(4).map((r) => [r.kind, r.channel, (r.message as { to?: string[] }).to ?? null])).toEqual([
      ['acknowledge', 'pager', null], ['acknowledge', 'mail', ['alice@example.com']], ['acknowledge', 'mail', ['bob@example.com']], ['acknowledge', 'chat', null],
      ['update_due', 'mail', ['alice@example.com']],
    ]);
  });
});

describe('for', () => {
  it('a condition that clears within its `for` opens nothing; one that holds opens when `for` is over', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const rules = { slow: { when: 'service_down', for: '10s', escalation: 'notify', services: ['web'] } };
    const h = await open(alertingConfig({ rules, escalation_policies: POLICIES }));
    await h.signal(serviceSignal('slow', 'web', true, T0));
    h.clock.set(T0 + 5 * S);
    await h.signal(serviceSignal('slow', 'web', false, h.clock.t));
    h.clock.set(T0 + 20 * S);
    await vi.advanceTimersByTimeAsync(20 * S);
    await h.ctx.serial(async () => undefined);
    expect(await h.store.alerting.listIncidents({ limit: 10 })).toEqual([]);

    await h.signal(serviceSignal('slow', 'web', true, h.clock.t));
    h.clock.set(T0 + 30 * S - 1);
    await vi.advanceTimersByTimeAsync(10 * S - 1);
    await h.ctx.serial(async () => undefined);
    expect(await h.store.alerting.listIncidents({ limit: 10 })).toEqual([]);
    h.clock.set(T0 + 30 * S);
    await vi.advanceTimersByTimeAsync(1);
    await h.ctx.serial(async () => undefined);
    expect((await h.store.alerting.listIncidents({ limit: 10 })).map((i) => [i.key, i.openedAt])).toEqual([['slow:service/web', T0 + 30 * S]]);
  });
});

describe('one-shot events', () => {
  it('a failover opens an incident that resolves after resolve_after; a second one within it joins the same incident', async () => {
    const rules = { failover: { when: 'failover', escalation: 'notify', severity: 'warning' } };
    const h = await open(alertingConfig({ rules, escalation_policies: POLICIES }, {
      databases: { main: { postgres: { members: [{ name: 'pg-a', port: 15432 }, { name: 'pg-b', port: 15433 }] } } },
    }));
    const failover = (at: number) => ({ rule: 'failover', subject: 'database/main', firing: true, at, summary: 'main failed over to pg-b', labels: { database: 'main' }, oneShot: true });
    await h.signal(failover(T0));
    const [incident] = await h.store.alerting.openIncidents();
    expect(incident).toMatchObject({ key: 'failover:database/main', alerts: [], clearSince: T0 });
    h.clock.set(T0 + 20 * S);
    await h.signal(failover(h.clock.t));
    expect(await h.store.alerting.openIncidents()).toEqual([expect.objectContaining({ id: incident!.id, clearSince: T0 + 20 * S })]);
    await h.at(T0 + 50 * S - 1);
    expect(h.ctx.open.size).toBe(1);
    await h.at(T0 + 50 * S);
    expect(h.ctx.open.size).toBe(0);
    expect(await timeline(h, incident!.id)).toEqual({ opened: 1, notified: 1, alert_cleared: 2, recurred: 1, resolved: 1 });
  });
});

describe('restart', () => {
  it('a crash between queuing the first page and recording the step does not page twice', async () => {
    const h = await open();
    await h.signal(serviceSignal('api-down', 'api', true, T0));
    const [incident] = await h.store.alerting.openIncidents();
    expect(incident).toMatchObject({ nextLevel: 1, nextAt: T0 + 5 * M });
    // As if the daemon died after the incident and its trigger rows were written, before the step was recorded.
    await h.store.alerting.updateIncident(incident!.id, { nextLevel: 0, cycle: 0, nextAt: T0 }, [], []);
    await h.close();
    harnesses.splice(harnesses.indexOf(h), 1);

    h.clock.set(T0 + 30 * S);
    const again = await open(config(), { clock: h.clock, path: h.path });
    await again.tick();
    expect(await rows(again)).toEqual(['trigger chat']);
    expect(await again.store.alerting.incident(incident!.id)).toMatchObject({ nextLevel: 1, nextAt: T0 + 5 * M });
  });

  it('a restarted daemon queues no step twice, escalates from the stored level, and resolves what cleared while it was down', async () => {
    const clock = new Clock();
    const first = await open(config(), { clock });
    await first.signal(serviceSignal('api-down', 'api', true, T0), endpointSignal('ep-down', 'web', '1', 'b', true, T0));
    await first.at(T0 + 5 * M);
    await first.close();
    harnesses.splice(harnesses.indexOf(first), 1);

    clock.set(T0 + 7 * M);
    const second = await open(config(), { clock, path: first.path });
    expect(second.ctx.open.size).toBe(2);
    // The sources re-derive what fires: api is still down; web's endpoint is not reported.
    await second.signal(serviceSignal('api-down', 'api', true, clock.t));
    await second.tick();
    const before = await rows(second);
    expect(before).toEqual(['trigger chat', 'trigger chat', 'trigger pager', 'escalate manager']);

    clock.set(T0 + 8 * M);
    await second.engine.reconcile();
    await second.at(T0 + 8 * M + 30 * S - 1);
    expect(second.ctx.open.size).toBe(2);
    await second.at(T0 + 8 * M + 30 * S);
    const [api] = [...second.ctx.open.values()];
    expect(api).toMatchObject({ key: 'api-down:service/api', state: 'triggered', nextLevel: 2, alerts: ['service/api'] });
    await second.at(T0 + 20 * M);

    const all = await second.outbox();
    expect(all.map((r) => `${r.kind} ${r.channel}`)).toEqual([...before, 'resolve chat', 'resolve pager', 'review_due chat', 'review_due pager', 'escalate cto']);
    expect(new Set(all.map((r) => r.idempotencyKey)).size).toBe(all.length);
    const web = (await second.store.alerting.listIncidents({ states: ['resolved'], limit: 10 }))[0]!;
    expect(web).toMatchObject({ key: 'ep-down:b', resolvedAt: T0 + 8 * M + 30 * S });
    expect((await second.store.alerting.incidentEvents(web.id)).find((e) => e.kind === 'alert_cleared')?.data).toMatchObject({ why: 'not firing since the daemon restarted' });
  });
});
