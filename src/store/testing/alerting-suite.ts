import { describe, expect, it } from 'vitest';
import { BulwarkError } from '../../core/errors.js';
import { OUTCOME_LOST, type NewIncident, type OutboxInput } from '../alerting-types.js';
import type { Store } from '../store.js';

const M = 60_000;
/** 2026-01-05T10:00:00Z */
const T0 = Date.UTC(2026, 0, 5, 10);

function incident(key: string, overrides: Partial<NewIncident> = {}): NewIncident {
  return {
    key, rule: key.split(':')[0]!, severity: 'critical', title: `${key} is down`, policy: 'page', labels: { service: 'api', tier: 'gold' },
    alerts: ['service/api'], openedAt: T0, nextAt: T0 + 5 * M, reminderAt: null, ...overrides,
  };
}

function row(key: string, overrides: Partial<OutboxInput> = {}): OutboxInput {
  return { idempotencyKey: key, channel: 'chat', incidentId: null, kind: 'trigger', message: { text: key, n: 1 }, createdAt: T0, deadlineAt: T0 + 60 * M, ...overrides };
}

async function caught(promise: Promise<unknown>): Promise<BulwarkError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(BulwarkError);
  return err as BulwarkError;
}

/** Alerting-table tests, run by `store.test.ts` against each backend after migrating. */
export function alertingSuite(current: () => Store): void {
  describe('alerting', () => {
    it('opens one incident per key with its first event and notifications, until it is resolved', async () => {
      const a = current().alerting;
      const first = await a.openIncident(incident('down:api'), { kind: 'opened', actor: 'bulwark', at: T0 }, (created) => [row(`i${created.id}.c0l1`, { incidentId: created.id })]);
      expect(first.created).toBe(true);
      expect(first.incident).toMatchObject({
        key: 'down:api', state: 'triggered', labels: { service: 'api', tier: 'gold' }, alerts: ['service/api'], openedAt: T0, nextAt: T0 + 5 * M,
        nextLevel: 0, cycle: 0, flapping: false, clearSince: null, acknowledgedAt: null, owner: null, updatedAt: T0,
      });
      let called = 0;
      const again = await a.openIncident(incident('down:api', { openedAt: T0 + M }), { kind: 'opened', actor: 'bulwark', at: T0 + M }, () => {
        called++;
        return [row('never')];
      });
      expect(again).toEqual({ incident: first.incident, created: false });
      expect(called).toBe(0);
      expect(await a.incidentEvents(first.incident.id)).toHaveLength(1);
      expect((await a.listOutbox({ limit: 10 })).map((r) => r.idempotencyKey)).toEqual([`i${first.incident.id}.c0l1`]);

      await a.updateIncident(first.incident.id, { state: 'resolved', resolvedAt: T0 + 2 * M, resolvedBy: 'bulwark' }, [], []);
      const reopened = await a.openIncident(incident('down:api', { openedAt: T0 + 3 * M }), { kind: 'opened', actor: 'bulwark', at: T0 + 3 * M }, () => []);
      expect(reopened.created).toBe(true);
      expect(reopened.incident.id).not.toBe(first.incident.id);
      expect((await a.openIncidents()).map((i) => i.id)).toEqual([reopened.incident.id]);
      expect((await a.listIncidents({ limit: 10 })).map((i) => i.id)).toEqual([reopened.incident.id, first.incident.id]);
      expect((await a.listIncidents({ states: ['resolved'], limit: 10 })).map((i) => i.id)).toEqual([first.incident.id]);
    });

    it('patches an incident, appends its timeline and queues each notification key once, in one transaction', async () => {
      const a = current().alerting;
      const { incident: opened } = await a.openIncident(incident('down:db'), { kind: 'opened', actor: 'bulwark', at: T0 }, () => [row('k1')]);
      const patched = await a.updateIncident(
        opened.id,
        { flapping: true, alerts: [], clearSince: T0 + M, owner: 'alice', nextAt: null, labels: { zone: 'a' } },
        [{ kind: 'alert_cleared', actor: 'bulwark', at: T0 + M, data: { subject: 'service/api' } }, { kind: 'note', actor: 'alice', at: T0 + M, data: { text: 'é ✓' } }],
        [row('k1', { channel: 'other' }), row('k2', { notBefore: T0 + 10 * M })],
      );
      expect(patched).toMatchObject({ flapping: true, alerts: [], clearSince: T0 + M, owner: 'alice', nextAt: null, labels: { zone: 'a' }, title: 'down:db is down' });
      expect(await a.incident(opened.id)).toEqual(patched);
      expect((await a.incidentEvents(opened.id)).map((e) => [e.kind, e.actor, e.at - T0, e.data])).toEqual([
        ['opened', 'bulwark', 0, null], ['alert_cleared', 'bulwark', M, { subject: 'service/api' }], ['note', 'alice', M, { text: 'é ✓' }],
      ]);
      const outbox = (await a.listOutbox({ incidentId: undefined, limit: 10 })).reverse();
      expect(outbox.map((r) => [r.idempotencyKey, r.channel, r.state, r.attempts, r.nextAttemptAt - T0])).toEqual([['k1', 'chat', 'pending', 0, 0], ['k2', 'chat', 'pending', 0, 10 * M]]);
      expect(outbox[0]!.message).toEqual({ text: 'k1', n: 1 });

      expect((await caught(a.updateIncident(999_999, { owner: 'bob' }, [{ kind: 'x', actor: 'y', at: T0 }], [row('k3')]))).code).toBe('NOT_FOUND');
      expect(await a.enqueue([row('k3')])).toBe(1);
      expect(await a.incident(999_999)).toBeNull();
    });

    it('claims due rows with a lease, takes over expired ones as outcome lost, and releases its claims at start', async () => {
      const a = current().alerting;
      expect(await a.nextOutboxDue()).toBeNull();
      expect(await a.enqueue([row('a'), row('b'), row('later', { notBefore: T0 + 5 * M }), row('a')])).toBe(3);
      expect(await a.nextOutboxDue()).toBe(T0);

      const claimed = await a.claimOutbox(T0, 10, T0 + M);
      expect(claimed.map((r) => [r.idempotencyKey, r.state, r.attempts, r.leaseUntil, r.lastError])).toEqual([['a', 'sending', 1, T0 + M, null], ['b', 'sending', 1, T0 + M, null]]);
      expect(await a.claimOutbox(T0 + M - 1, 10, T0 + 2 * M)).toEqual([]);
      expect(await a.nextOutboxDue()).toBe(T0 + M);

      await a.completeOutbox(claimed[0]!.id, { state: 'pending', nextAttemptAt: T0 + 2 * M, error: 'HTTP 500' });
      const taken = await a.claimOutbox(T0 + M, 10, T0 + 3 * M);
      expect(taken.map((r) => [r.idempotencyKey, r.attempts, r.lastError])).toEqual([['b', 2, OUTCOME_LOST]]);
      await a.completeOutbox(taken[0]!.id, { state: 'delivered', at: T0 + M });

      const retry = await a.claimOutbox(T0 + 5 * M, 10, T0 + 6 * M);
      expect(retry.map((r) => [r.idempotencyKey, r.attempts, r.lastError])).toEqual([['a', 2, 'HTTP 500'], ['later', 1, null]]);
      expect(await a.releaseClaims()).toBe(2);
      expect(await a.releaseClaims()).toBe(0);
      const released = await a.claimOutbox(T0 + 5 * M, 1, T0 + 6 * M);
      expect(released.map((r) => [r.idempotencyKey, r.attempts, r.lastError])).toEqual([['a', 3, OUTCOME_LOST]]);
      await a.completeOutbox(released[0]!.id, { state: 'deferred', nextAttemptAt: T0 + 4 * M });
      expect((await a.listOutbox({ limit: 10 })).find((r) => r.idempotencyKey === 'a')).toMatchObject({ state: 'pending', attempts: 2, nextAttemptAt: T0 + 4 * M, lastError: OUTCOME_LOST, leaseUntil: null });
      const deferred = await a.claimOutbox(T0 + 4 * M, 10, T0 + 8 * M);
      expect(deferred.map((r) => [r.idempotencyKey, r.attempts, r.lastError])).toEqual([['a', 3, OUTCOME_LOST]]);
      await a.completeOutbox(released[0]!.id, { state: 'dead', error: 'HTTP 400' });

      const all = (await a.listOutbox({ limit: 10 })).reverse();
      expect(all.map((r) => [r.idempotencyKey, r.state, r.lastError, r.deliveredAt, r.leaseUntil])).toEqual([
        ['a', 'dead', 'HTTP 400', null, null], ['b', 'delivered', null, T0 + M, null], ['later', 'pending', OUTCOME_LOST, null, null],
      ]);
      expect(await a.outboxCounts()).toEqual([{ channel: 'chat', state: 'dead', count: 1 }, { channel: 'chat', state: 'delivered', count: 1 }, { channel: 'chat', state: 'pending', count: 1 }]);
      expect(await a.nextOutboxDue()).toBe(T0 + 5 * M);
    });

    it('records many outcomes in one call: delivered ones together, the rest each as completeOutbox would', async () => {
      const a = current().alerting;
      await a.enqueue(['m1', 'm2', 'm3', 'm4', 'm5'].map((k) => row(k)));
      const claimed = await a.claimOutbox(T0, 10, T0 + M);
      expect(claimed.map((r) => r.idempotencyKey)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
      const [m1, m2, m3, m4, m5] = claimed.map((r) => r.id) as [number, number, number, number, number];
      await a.completeOutboxMany([
        { id: m1, outcome: { state: 'delivered', at: T0 + 1 } },
        { id: m2, outcome: { state: 'pending', nextAttemptAt: T0 + M, error: 'HTTP 500' } },
        { id: m3, outcome: { state: 'delivered', at: T0 + 3 } },
        { id: m4, outcome: { state: 'deferred', nextAttemptAt: T0 + 2 * M } },
        { id: m5, outcome: { state: 'dead', error: 'HTTP 400' } },
      ]);
      await a.completeOutboxMany([]);
      const all = (await a.listOutbox({ limit: 10 })).reverse();
      expect(all.map((r) => [r.idempotencyKey, r.state, r.deliveredAt, r.nextAttemptAt, r.attempts, r.lastError, r.leaseUntil])).toEqual([
        ['m1', 'delivered', T0 + 1, T0, 1, null, null],
        ['m2', 'pending', null, T0 + M, 1, 'HTTP 500', null],
        ['m3', 'delivered', T0 + 3, T0, 1, null, null],
        ['m4', 'pending', null, T0 + 2 * M, 0, null, null],
        ['m5', 'dead', null, T0, 1, 'HTTP 400', null],
      ]);
    });

    it('keeps silences: active ones by time, expired ones listed, expiring twice is NOT_FOUND', async () => {
      const a = current().alerting;
      const s1 = await a.addSilence({ matchers: { service: 'api' }, startsAt: T0, endsAt: T0 + 60 * M, createdBy: 'alice', comment: 'deploy' });
      const s2 = await a.addSilence({ matchers: { zone: 'a', rule: 'down' }, startsAt: T0, endsAt: T0 + 10 * M, createdBy: 'bob', comment: '' });
      expect(s1).toMatchObject({ matchers: { service: 'api' }, startsAt: T0, endsAt: T0 + 60 * M, createdBy: 'alice', comment: 'deploy', expiredAt: null, expiredBy: null });
      expect((await a.listSilences(T0 + M)).map((s) => s.id)).toEqual([s1.id, s2.id]);
      expect((await a.listSilences(T0 + 10 * M)).map((s) => s.id)).toEqual([s1.id]);
      expect(await a.expireSilence(s1.id, 'carol', T0 + 2 * M)).toMatchObject({ id: s1.id, expiredAt: T0 + 2 * M, expiredBy: 'carol' });
      expect(await a.listSilences(T0 + 3 * M)).toEqual([expect.objectContaining({ id: s2.id })]);
      expect((await caught(a.expireSilence(s1.id, 'carol', T0 + 3 * M))).code).toBe('NOT_FOUND');
      expect((await caught(a.expireSilence(s2.id, 'carol', T0 + 11 * M))).code).toBe('NOT_FOUND');
      expect((await a.listSilences()).map((s) => s.id)).toEqual([s2.id, s1.id]);
    });

    it('creates a setting once and keeps it', async () => {
      const a = current().alerting;
      expect(await a.setting('link_key', () => 'first')).toBe('first');
      expect(await a.setting('link_key', () => 'second')).toBe('first');
    });
  });
}
