import { describe, expect, it } from 'vitest';
import type { Store } from '../store.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 10);

/** Status-subscriber tests, run by `store.test.ts` against each backend after migrating. */
export function statusSubscribersSuite(current: () => Store): void {
  describe('status subscribers', () => {
    it('keeps one active subscriber per (kind, address); confirms and unsubscribes once', async () => {
      const s = current().statusSubscribers;
      const first = await s.subscribe({ kind: 'email', address: 'ann@example.com', components: ['api'], createdAt: T0 }, { pendingExpiredBefore: T0 - 48 * H });
      expect(first).toMatchObject({ created: true, subscriber: { kind: 'email', address: 'ann@example.com', components: ['api'], confirmedAt: null, unsubscribedAt: null } });
      const again = await s.subscribe({ kind: 'email', address: 'ann@example.com', components: [], createdAt: T0 + H }, { pendingExpiredBefore: T0 - 47 * H });
      expect(again).toEqual({ created: false, subscriber: first.subscriber });
      const hook = await s.subscribe({ kind: 'webhook', address: 'ann@example.com', components: [], createdAt: T0 }, { confirmed: true, pendingExpiredBefore: 0 });
      expect(hook.created).toBe(true);
      expect(hook.subscriber.confirmedAt).toBe(T0);

      expect((await s.confirm(first.subscriber.id, T0 + 2 * H))?.confirmedAt).toBe(T0 + 2 * H);
      expect((await s.confirm(first.subscriber.id, T0 + 3 * H))?.confirmedAt).toBe(T0 + 2 * H);
      expect((await s.confirmedSubscribers()).map((x) => x.id)).toEqual([first.subscriber.id, hook.subscriber.id]);
      expect((await s.unsubscribe(first.subscriber.id, T0 + 4 * H))?.unsubscribedAt).toBe(T0 + 4 * H);
      expect((await s.unsubscribe(first.subscriber.id, T0 + 5 * H))?.unsubscribedAt).toBe(T0 + 4 * H);
      expect(await s.confirm(first.subscriber.id, T0 + 5 * H)).toBeNull();
      expect(await s.unsubscribe(9999, T0)).toBeNull();
      expect((await s.confirmedSubscribers()).map((x) => x.id)).toEqual([hook.subscriber.id]);

      const back = await s.subscribe({ kind: 'email', address: 'ann@example.com', components: [], createdAt: T0 + 6 * H }, { pendingExpiredBefore: T0 });
      expect(back.created).toBe(true);
      expect(back.subscriber.id).not.toBe(first.subscriber.id);
    });

    it('replaces a pending subscriber whose confirmation expired', async () => {
      const s = current().statusSubscribers;
      const old = await s.subscribe({ kind: 'email', address: 'bob@example.com', components: [], createdAt: T0 }, { pendingExpiredBefore: T0 - 48 * H });
      const fresh = await s.subscribe({ kind: 'email', address: 'bob@example.com', components: [], createdAt: T0 + 49 * H }, { pendingExpiredBefore: T0 + H });
      expect(fresh.created).toBe(true);
      expect((await s.subscriber(old.subscriber.id))?.unsubscribedAt).toBe(T0 + 49 * H);
    });

    it('reads incident events after a cursor and keeps the cursor', async () => {
      const store = current();
      const { incident } = await store.alerting.openIncident(
        { key: 'k', rule: 'r', severity: 'critical', title: 't', policy: null, labels: {}, alerts: [], openedAt: T0, nextAt: null, reminderAt: null },
        { kind: 'opened', actor: 'bulwark', at: T0 }, () => [],
      );
      await store.alerting.updateIncident(incident.id, {}, [{ kind: 'note', actor: 'x', at: T0 + 1, data: { text: 'hi', public: true } }], []);
      const all = await store.statusSubscribers.incidentEventsAfter(0, 10);
      expect(all.map((e) => e.kind)).toEqual(['opened', 'note']);
      expect(all[1]!.data).toEqual({ text: 'hi', public: true });
      expect(await store.statusSubscribers.incidentEventsAfter(all[0]!.id, 10)).toEqual([all[1]]);
      expect(await store.statusSubscribers.cursor('fanout')).toBeNull();
      await store.statusSubscribers.setCursor('fanout', 5);
      await store.statusSubscribers.setCursor('fanout', 7);
      expect(await store.statusSubscribers.cursor('fanout')).toBe(7);
    });
  });
}
