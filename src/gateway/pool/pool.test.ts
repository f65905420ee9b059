import { describe, expect, it } from 'vitest';
import { BulwarkError } from '../../core/errors.js';
import { EndpointPool } from './pool.js';
import type { PoolEndpointSpec } from './types.js';

const SPECS: PoolEndpointSpec[] = [
  { id: 'a', url: 'http://10.0.0.1:80', zone: 'z1' },
  { id: 'b', url: 'http://10.0.0.2:80', zone: 'z1' },
  { id: 'c', url: 'http://10.0.0.3:80', zone: 'z2' },
];

function setup(specs = SPECS, algorithm = 'round_robin'): { pool: EndpointPool; clock: { now: number } } {
  const clock = { now: 10_000 };
  const pool = new EndpointPool(specs, { algorithm, now: () => clock.now, stickySecret: 'test-secret-of-16+bytes' });
  for (const s of specs) pool.setHealth(s.id, 'up');
  return { pool, clock };
}

const ids = (pool: EndpointPool, n: number): string[] => Array.from({ length: n }, () => pool.pick()?.endpoint.id ?? '-');

describe('eligibility', () => {
  it('draining takes no new picks while its in-flight count drains', () => {
    const { pool } = setup();
    pool.acquire('a');
    pool.acquire('a');
    pool.setAdminState('a', 'draining');
    expect(ids(pool, 6)).not.toContain('a');
    expect(pool.get('a')?.active).toBe(2);
    pool.release('a');
    pool.release('a');
    pool.release('a'); // never below zero
    expect(pool.snapshot().endpoints[0]).toMatchObject({ id: 'a', admin: 'draining', active: 0, serving: false, eligible: false });
    pool.setAdminState('a', 'enabled');
    expect(ids(pool, 3)).toContain('a');
  });

  it('disabled takes no traffic', () => {
    const { pool } = setup();
    pool.setAdminState('b', 'disabled');
    expect(ids(pool, 4)).toEqual(['a', 'c', 'a', 'c']);
  });

  it('weight 0 takes no new traffic', () => {
    const { pool } = setup(SPECS, 'weighted');
    pool.setWeight('c', 0);
    expect(ids(pool, 4)).toEqual(['a', 'b', 'a', 'b']);
    expect(pool.snapshot().endpoints[2]).toMatchObject({ weight: 0, eligible: false, serving: false });
  });

  it('an ejected endpoint returns when its ejection time has passed', () => {
    const { pool, clock } = setup();
    pool.eject('a', 40_000);
    expect(ids(pool, 4)).toEqual(['b', 'c', 'b', 'c']);
    expect(pool.snapshot().endpoints[0]).toMatchObject({ ejected: true, ejectedUntil: 40_000 });
    clock.now = 39_999;
    expect(ids(pool, 2)).not.toContain('a');
    clock.now = 40_000;
    expect(ids(pool, 3)).toContain('a');
    expect(pool.snapshot().endpoints[0]?.ejected).toBe(false);
  });

  it('treats unknown health as up only until an endpoint of the tier is known up', () => {
    const clock = { now: 0 };
    const pool = new EndpointPool(SPECS, { now: () => clock.now });
    expect(ids(pool, 3)).toEqual(['a', 'b', 'c']); // at start: serve at once, as HAProxy does
    pool.setHealth('b', 'up');
    expect(ids(pool, 3)).toEqual(['b', 'b', 'b']); // probing is live: unverified endpoints wait
    pool.setHealth('a', 'up');
    expect(new Set(ids(pool, 4))).toEqual(new Set(['a', 'b']));
  });

  it('a backup answering first does not pull traffic from unprobed primaries', () => {
    const pool = new EndpointPool([...SPECS, { id: 'k', url: 'http://10.9.0.1', backup: true }]);
    pool.setHealth('k', 'up');
    expect(pool.level).toBe('primary');
    expect(ids(pool, 3)).toEqual(['a', 'b', 'c']);
  });
});

describe('retries', () => {
  it('skips excluded endpoints while another candidate exists', () => {
    const { pool } = setup();
    const tried = new Set(['a', 'b']);
    expect([0, 1, 2].map(() => pool.pick({ exclude: tried })?.endpoint.id)).toEqual(['c', 'c', 'c']);
  });

  it('falls back to an excluded endpoint only when nothing else is eligible', () => {
    const { pool } = setup();
    pool.setHealth('b', 'down');
    pool.setHealth('c', 'down');
    expect(pool.pick({ exclude: new Set(['a']) })?.endpoint.id).toBe('a');
  });

  it('moves a retry to the secondary zone, then to a backup, when the active tier has nothing untried', () => {
    const specs: PoolEndpointSpec[] = [
      { id: 'p', url: 'http://p', zone: 'z1' },
      { id: 's', url: 'http://s', zone: 'z2' },
      { id: 'b', url: 'http://b', zone: 'z3', backup: true },
    ];
    const pool = new EndpointPool(specs, { failover: { primaryZones: ['z1'] } });
    for (const id of ['p', 's', 'b']) pool.setHealth(id, 'up');
    expect(pool.level).toBe('primary');
    expect(pool.pick()?.endpoint.id).toBe('p');
    expect(pool.pick({ exclude: new Set(['p']) })?.endpoint.id).toBe('s');
    expect(pool.pick({ exclude: new Set(['p', 's']) })?.endpoint.id).toBe('b');
    expect(pool.pick({ exclude: new Set(['p', 's', 'b']) })?.endpoint.id).toBe('p');
    expect(pool.level).toBe('primary');
  });
});

describe('sticky sessions', () => {
  it('returns the endpoint of the cookie while it is eligible', () => {
    const { pool } = setup();
    const cookie = pool.stickyCookieValue({ id: 'c' });
    expect(cookie).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(cookie).not.toContain('c'.repeat(2));
    expect(pool.endpointForStickyCookie(cookie)?.id).toBe('c');
    for (let i = 0; i < 3; i += 1) {
      expect(pool.pick({ stickyKey: cookie })).toMatchObject({ endpoint: { id: 'c' }, stickyHit: true, stickyBroken: false });
    }
  });

  it('falls back to the algorithm with stickyBroken when the endpoint dies, drains or the cookie is garbage', () => {
    const { pool } = setup();
    const cookie = pool.stickyCookieValue('c');
    pool.setHealth('c', 'down');
    expect(pool.pick({ stickyKey: cookie })).toMatchObject({ endpoint: { id: 'a' }, stickyHit: false, stickyBroken: true });
    pool.setHealth('c', 'up');
    pool.setAdminState('c', 'draining');
    expect(pool.pick({ stickyKey: cookie })?.stickyBroken).toBe(true);
    expect(pool.pick({ stickyKey: 'forged' })).toMatchObject({ stickyHit: false, stickyBroken: true });
    expect(pool.endpointForStickyCookie('forged')).toBeUndefined();
  });

  it('keeps the session on weight 0 (as HAProxy) and on a retry that must avoid it', () => {
    const { pool } = setup();
    const cookie = pool.stickyCookieValue('b');
    pool.setWeight('b', 0);
    expect(pool.pick({ stickyKey: cookie })?.endpoint.id).toBe('b');
    const retry = pool.pick({ stickyKey: cookie, exclude: new Set(['b']) });
    expect(retry?.endpoint.id).not.toBe('b');
    expect(retry?.stickyBroken).toBe(false);
  });

  it('uses a per-process secret by default: values differ between pools and do not expose ids', () => {
    const one = new EndpointPool(SPECS).stickyCookieValue('a');
    const two = new EndpointPool(SPECS).stickyCookieValue('a');
    expect(one).not.toBe(two);
    expect(() => new EndpointPool(SPECS, { stickySecret: 'short' })).toThrow(/at least 16 bytes/);
  });
});

describe('operations', () => {
  it('validates weights, states and ids with clear errors', () => {
    const { pool } = setup();
    expect(() => pool.setWeight('a', 1001)).toThrow(/weight of endpoint "a" must be an integer from 0 to 1000, got 1001/);
    expect(() => pool.setWeight('a', 1.5)).toThrow(BulwarkError);
    expect(() => pool.setWeight('a', -1)).toThrow(/got -1/);
    expect(() => pool.setAdminState('a', 'paused' as never)).toThrow(/must be one of enabled, draining, disabled/);
    expect(() => pool.setHealth('zz', 'up')).toThrow(expect.objectContaining({ code: 'NOT_FOUND', hint: 'known endpoints: a, b, c' }));
    expect(() => pool.eject('a', Number.NaN)).toThrow(/finite time/);
    expect(() => new EndpointPool([SPECS[0] as PoolEndpointSpec, SPECS[0] as PoolEndpointSpec])).toThrow(/appears twice/);
    pool.setWeight('a', 1000);
    expect(pool.get('a')?.weight).toBe(1000);
  });

  it('snapshots every endpoint for status output', () => {
    const clock = { now: 0 };
    const pool = new EndpointPool([...SPECS, { id: 'k', url: 'http://10.9.0.1', backup: true, weight: 5 }], {
      algorithm: 'least_connections', failover: { primaryZones: ['z1'] }, now: () => clock.now,
    });
    pool.setHealth('a', 'up');
    pool.acquire('a');
    const snap = pool.snapshot();
    expect(snap).toMatchObject({ level: 'primary', heldLevel: undefined, algorithm: 'least_connections' });
    expect(snap.endpoints.map((e) => [e.id, e.tier, e.health, e.active, e.serving])).toEqual([
      ['a', 1, 'up', 1, true], ['b', 1, 'unknown', 0, false], ['c', 2, 'unknown', 0, false], ['k', 3, 'unknown', 0, false],
    ]);
    expect(snap.endpoints[2]?.eligible).toBe(true); // unknown in a tier with nothing up: eligible, tier not active
  });

  it('keeps the state of persisting endpoints on reload', () => {
    const { pool, clock } = setup();
    pool.acquire('a');
    pool.setAdminState('b', 'draining');
    pool.eject('a', clock.now + 5_000);
    pool.setWeight('c', 7);
    pool.setHealth('c', 'down');
    pool.update([
      { id: 'a', url: 'http://10.0.0.1:80', zone: 'z1' },
      { id: 'b', url: 'http://10.0.0.2:80', zone: 'z1' },
      { id: 'c', url: 'http://10.0.0.3:80', zone: 'z2' },
      { id: 'd', url: 'http://10.0.0.4:80', zone: 'z2' },
    ]);
    const [a, b, c, d] = pool.snapshot().endpoints;
    expect(a).toMatchObject({ active: 1, ejected: true, health: 'up' });
    expect(b).toMatchObject({ admin: 'draining', health: 'up' });
    expect(c).toMatchObject({ health: 'down', weight: 7 }); // runtime weight kept: config weight unchanged
    expect(d).toMatchObject({ health: 'unknown', eligible: false }); // new: waits for its first check
    pool.release('a');
    expect(pool.get('a')?.active).toBe(0);
  });

  it('on reload takes a changed config weight, resets health of a moved url, forgets removed endpoints', () => {
    const { pool } = setup();
    pool.acquire('c');
    pool.setWeight('a', 3);
    pool.update([
      { id: 'a', url: 'http://10.0.0.1:80', zone: 'z1', weight: 50 },
      { id: 'b', url: 'http://10.0.0.22:80', zone: 'z1' },
    ], { algorithm: 'weighted' });
    expect(pool.get('a')?.weight).toBe(50);
    expect(pool.get('b')?.health).toBe('unknown');
    expect(pool.get('c')).toBeUndefined();
    pool.release('c'); // in-flight request of a removed endpoint finishing: ignored
    expect(pool.acquire('c')).toBe(false);
    expect(pool.snapshot().algorithm).toBe('weighted');
    expect(() => pool.update([], { algorithm: 'nope' })).toThrow(/unknown load balancing algorithm/);
  });

  it('reports a tier change caused by a reload', () => {
    const changes: string[] = [];
    const pool = new EndpointPool(SPECS, { onChange: (c) => changes.push(`${c.from}>${c.to}: ${c.reason}`) });
    SPECS.forEach((s) => pool.setHealth(s.id, 'up'));
    pool.update(SPECS, { failover: { primaryZones: ['z9'] } });
    expect(changes).toEqual([expect.stringMatching(/^primary>spillover: config reload: no eligible endpoint in the primary tier/)]);
  });
});
