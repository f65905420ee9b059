import { describe, expect, it } from 'vitest';
import { EndpointPool, type PoolOptions } from './pool.js';
import type { PoolEndpointSpec, TierChange } from './types.js';

const SPECS: PoolEndpointSpec[] = [
  { id: 'p1', url: 'http://10.0.1.1', zone: 'z1' },
  { id: 'p2', url: 'http://10.0.1.2', zone: 'z1' },
  { id: 'p3', url: 'http://10.0.1.3', zone: 'z1' },
  { id: 's1', url: 'http://10.0.2.1', zone: 'z2' },
  { id: 's2', url: 'http://10.0.2.2', zone: 'z2' },
  { id: 'k1', url: 'http://10.0.3.1', zone: 'z3', backup: true },
];

function setup(options: PoolOptions = {}): { pool: EndpointPool; changes: TierChange[] } {
  const changes: TierChange[] = [];
  const pool = new EndpointPool(SPECS, {
    failover: { primaryZones: ['z1'] },
    ...options,
    onChange: (c) => changes.push(c),
    now: () => 1_000,
  });
  for (const s of SPECS) pool.setHealth(s.id, 'up');
  return { pool, changes };
}

function picked(pool: EndpointPool, n = 12): Set<string> {
  const ids = new Set<string>();
  for (let i = 0; i < n; i += 1) ids.add(pool.pick()?.endpoint.id ?? '-');
  return ids;
}

const down = (pool: EndpointPool, ...ids: string[]): void => ids.forEach((id) => pool.setHealth(id, 'down'));
const up = (pool: EndpointPool, ...ids: string[]): void => ids.forEach((id) => pool.setHealth(id, 'up'));
const transitions = (changes: TierChange[]): string[] => changes.map((c) => `${c.from}>${c.to}`);

describe('zone tiers', () => {
  it('sends traffic only to the primary zones while they are healthy', () => {
    const { pool, changes } = setup();
    expect(picked(pool)).toEqual(new Set(['p1', 'p2', 'p3']));
    expect(pool.level).toBe('primary');
    expect(changes).toEqual([]);
  });

  it('fails over to the secondary zones when every primary endpoint is down', () => {
    const { pool, changes } = setup();
    down(pool, 'p1', 'p2', 'p3');
    expect(picked(pool)).toEqual(new Set(['s1', 's2']));
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ from: 'primary', to: 'spillover', direction: 'failover', at: 1_000 });
    expect(changes[0]?.reason).toMatch(/no eligible endpoint in the primary tier/);
  });

  it('spills over below min_healthy_share, the degraded primary zone keeping its share', () => {
    const { pool, changes } = setup({ failover: { primaryZones: ['z1'], minHealthyShare: 0.6 } });
    down(pool, 'p2');
    expect(pool.level).toBe('primary'); // 2/3 = 66.7% >= 60%
    down(pool, 'p3');
    expect(pool.level).toBe('spillover'); // 1/3 < 60%
    expect(changes).toHaveLength(1);
    expect(changes[0]?.reason).toMatch(/below min_healthy_share: 1\/3 eligible < 60%/);
    expect([0, 1, 2, 3, 4, 5].map(() => pool.pick()?.endpoint.id)).toEqual(['p1', 's1', 's2', 'p1', 's1', 's2']);
  });

  it('does not spill over at start while probes answer one by one', () => {
    const changes: TierChange[] = [];
    const pool = new EndpointPool(SPECS, { failover: { primaryZones: ['z1'], minHealthyShare: 0.6 }, onChange: (c) => changes.push(c) });
    pool.setHealth('p1', 'up'); // p2, p3 not probed yet: 1/1 known
    expect(pool.level).toBe('primary');
    expect(picked(pool)).toEqual(new Set(['p1']));
    pool.setHealth('p2', 'down'); // 1/2 known < 60%
    expect(pool.level).toBe('spillover');
    pool.setHealth('p3', 'up'); // 2/3
    expect(transitions(changes)).toEqual(['primary>spillover', 'spillover>primary']);
  });

  it('uses backups only when no regular endpoint is eligible (active-passive)', () => {
    const { pool, changes } = setup();
    expect(picked(pool)).not.toContain('k1');
    down(pool, 'p1', 'p2', 'p3', 's1', 's2');
    expect(picked(pool)).toEqual(new Set(['k1']));
    expect(transitions(changes)).toEqual(['primary>spillover', 'spillover>backup']);
  });

  it('fails back to the primary zones when they recover', () => {
    const { pool, changes } = setup();
    down(pool, 'p1', 'p2', 'p3', 's1', 's2');
    up(pool, 's1');
    up(pool, 'p2');
    expect(picked(pool)).toEqual(new Set(['p2']));
    expect(transitions(changes)).toEqual(['primary>spillover', 'spillover>backup', 'backup>spillover', 'spillover>primary']);
    expect(changes.slice(2).map((c) => c.direction)).toEqual(['failback', 'failback']);
  });

  it('with failback: false stays on the lower tier until an operator resets', () => {
    const { pool, changes } = setup({ failover: { primaryZones: ['z1'], failback: false } });
    down(pool, 'p1', 'p2', 'p3');
    up(pool, 'p1', 'p2', 'p3');
    expect(pool.level).toBe('spillover');
    expect(picked(pool)).toEqual(new Set(['p1', 'p2', 'p3', 's1', 's2']));
    expect(pool.snapshot().heldLevel).toBe('spillover');
    expect(pool.resetFailover()).toBe('primary');
    expect(picked(pool)).toEqual(new Set(['p1', 'p2', 'p3']));
    expect(transitions(changes)).toEqual(['primary>spillover', 'spillover>primary']);
    expect(changes[1]?.reason).toMatch(/^operator reset: /);
  });

  it('with failback: false, holds backups but leaves them if they die too', () => {
    const { pool, changes } = setup({ failover: { primaryZones: ['z1'], failback: false } });
    down(pool, 'p1', 'p2', 'p3', 's1', 's2');
    up(pool, 'p1');
    expect(pool.level).toBe('backup');
    expect(changes.at(-1)?.to).toBe('backup');
    down(pool, 'k1');
    expect(picked(pool)).toEqual(new Set(['p1'])); // holding on to an empty tier would black-hole requests
    up(pool, 'k1');
    expect(pool.level).toBe('primary'); // the hold moved with the traffic
  });

  it('reports each transition exactly once', () => {
    const { pool, changes } = setup();
    down(pool, 'p1', 'p2', 'p3');
    down(pool, 'p1', 'p2', 'p3');
    picked(pool, 50);
    pool.snapshot();
    up(pool, 'p1');
    up(pool, 'p1', 'p2');
    picked(pool, 50);
    expect(transitions(changes)).toEqual(['primary>spillover', 'spillover>primary']);
  });

  it('without primary_zones every non-backup endpoint is tier 1', () => {
    const { pool } = setup({ failover: {} });
    expect(picked(pool)).toEqual(new Set(['p1', 'p2', 'p3', 's1', 's2']));
    expect(pool.snapshot().endpoints.map((e) => e.tier)).toEqual([1, 1, 1, 1, 1, 3]);
  });

  it('returns nothing (the proxy answers 503) when nothing is eligible, and recovers', () => {
    const { pool, changes } = setup();
    down(pool, ...SPECS.map((s) => s.id));
    expect(pool.pick()).toBeUndefined();
    expect(pool.level).toBe('none');
    up(pool, 's2');
    expect(pool.pick()?.endpoint.id).toBe('s2');
    expect(transitions(changes)).toEqual(['primary>spillover', 'spillover>backup', 'backup>none', 'none>spillover']);
  });
});
